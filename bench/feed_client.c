/* The cheap subscriber process of bench/feed.py: N WebSocket subscribers in one epoll loop.

   feed_client PORT COUNT SAMPLED SUBSCRIBE_FILE

   Opens COUNT connections to 127.0.0.1:PORT (from 127.0.0.2 upwards, 100 per address), upgrades each (a minimal RFC 6455 client: one
   handshake, one masked text frame with SUBSCRIBE_FILE's bytes), and prints "ready" once
   every connection has had its first text frame (the ``subscriptions`` reply). From then on it
   counts text frames per connection, answers pings with pongs (the server's read probe cuts a
   connection that does not), and for the first SAMPLED connections records each frame's
   ``"sequence":N`` with the CLOCK_MONOTONIC time of the read that brought it (the same clock
   as Python's time.monotonic, shared by every process on Linux). A line on stdin (or its end)
   starts the drain: once no frame has arrived for 0.5 s it prints one JSON object and exits:
   {"subscribers": [[frames, first, last, closed], ...], "samples": [[sequence, time], ...]}.

   Per frame it costs a header parse (and, sampled, a memmem), per read one recv: far less
   than the server spends per delivery, so the bench's figure is the server's. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "clients.h"

#define PER_ADDRESS 100

typedef struct {
    int fd;
    int connected, upgraded, ready, closed, sampled;
    long frames;
    double first, last;
    unsigned char *buf;
    size_t len, cap;
} Conn;

static double *sample_t;
static long *sample_seq;
static size_t samples, samples_cap;
static unsigned char *subscribe;
static size_t subscribe_len;
static int ready_count, count;

static void send_all(int fd, const unsigned char *data, size_t n) {
    while (n) {
        ssize_t k = send(fd, data, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return; /* gone: recv will tell */
        }
        data += k;
        n -= (size_t)k;
    }
}

/* A client frame, masked with the all-zero key (legal; the payload stays as it is). */
static void send_frame(int fd, int opcode, const unsigned char *payload, size_t n) {
    unsigned char head[14];
    size_t h = 0;
    head[h++] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        head[h++] = (unsigned char)(0x80 | n);
    } else if (n < 65536) {
        head[h++] = 0x80 | 126;
        head[h++] = (unsigned char)(n >> 8);
        head[h++] = (unsigned char)n;
    } else {
        head[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) head[h++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    memset(head + h, 0, 4);
    h += 4;
    unsigned char *out = malloc(h + n);
    memcpy(out, head, h);
    memcpy(out + h, payload, n);
    send_all(fd, out, h + n);
    free(out);
}

static void record(const unsigned char *payload, size_t n, double t) {
    static const char key[] = "\"sequence\":";
    const unsigned char *at = memmem(payload, n, key, sizeof key - 1);
    if (at == NULL) return;
    at += sizeof key - 1;
    long seq = 0;
    int digits = 0;
    while (at < payload + n && *at >= '0' && *at <= '9') {
        seq = seq * 10 + (*at++ - '0');
        digits++;
    }
    if (!digits) return;
    if (samples == samples_cap) {
        samples_cap = samples_cap ? samples_cap * 2 : 65536;
        sample_t = realloc(sample_t, samples_cap * sizeof *sample_t);
        sample_seq = realloc(sample_seq, samples_cap * sizeof *sample_seq);
    }
    sample_t[samples] = t;
    sample_seq[samples++] = seq;
}

/* Every whole frame in c->buf; returns the bytes used. */
static size_t frames(Conn *c, double t) {
    unsigned char *b = c->buf;
    size_t pos = 0;
    while (c->len - pos >= 2) {
        int opcode = b[pos] & 0x0F;
        uint64_t n = b[pos + 1] & 0x7F;
        size_t start = 2;
        if (n == 126) {
            if (c->len - pos < 4) break;
            n = ((uint64_t)b[pos + 2] << 8) | b[pos + 3];
            start = 4;
        } else if (n == 127) {
            if (c->len - pos < 10) break;
            n = 0;
            for (int i = 0; i < 8; i++) n = (n << 8) | b[pos + 2 + i];
            start = 10;
        }
        if (c->len - pos < start + n) {
            if (start + n > c->cap) { /* a frame larger than the buffer: grow it */
                c->cap = start + n + 65536;
                c->buf = realloc(c->buf, c->cap);
                b = c->buf;
            }
            break;
        }
        unsigned char *payload = b + pos + start;
        if (opcode == 0x9) {
            send_frame(c->fd, 0xA, payload, n);
        } else if (opcode == 0x8) {
            c->closed = 1;
        } else if (opcode == 0x1) {
            if (!c->ready) {
                if (memmem(payload, n, "\"subscriptions\"", 15) == NULL) {
                    fprintf(stderr, "feed_client: refused: %.*s\n", (int)n, payload);
                    exit(1);
                }
                c->ready = 1; /* the subscriptions reply */
                ready_count++;
                if (ready_count == count) {
                    printf("ready\n");
                    fflush(stdout);
                }
            } else {
                c->frames++;
                if (c->first == 0.0) c->first = t;
                c->last = t;
                if (c->sampled) record(payload, n, t);
            }
        }
        pos += start + n;
    }
    return pos;
}

static void readable(Conn *c, int epfd) {
    if (c->cap - c->len < 16384) {
        c->cap *= 2;
        c->buf = realloc(c->buf, c->cap);
    }
    ssize_t k = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (k <= 0) {
        if (k < 0 && (errno == EAGAIN || errno == EINTR)) return;
        c->closed = 1;
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        return;
    }
    double t = mono();
    c->len += (size_t)k;
    if (!c->upgraded) {
        unsigned char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end == NULL) return;
        size_t head = (size_t)(end + 4 - c->buf);
        memmove(c->buf, c->buf + head, c->len - head);
        c->len -= head;
        c->upgraded = 1;
        send_frame(c->fd, 0x1, subscribe, subscribe_len);
    }
    size_t used = frames(c, t);
    if (used) {
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: feed_client PORT COUNT SAMPLED SUBSCRIBE_FILE\n");
        return 2;
    }
    int port = atoi(argv[1]);
    count = atoi(argv[2]);
    int sampled = atoi(argv[3]);
    FILE *f = fopen(argv[4], "rb");
    if (f == NULL) die("subscribe file");
    subscribe = malloc(65536);
    subscribe_len = fread(subscribe, 1, 65536, f);
    fclose(f);

    int epfd = epoll_create1(0);
    if (epfd < 0) die("epoll_create1");
    Conn *conns = calloc((size_t)count, sizeof *conns);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char request[] =
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    for (int i = 0; i < count; i++) {
        Conn *c = &conns[i];
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c->fd < 0) die("socket");
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* 100 connections per source address (127.0.0.2 upwards): the server takes at most
           128 at once from one address */
        struct sockaddr_in local = {.sin_family = AF_INET};
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (uint32_t)(i / PER_ADDRESS));
        if (bind(c->fd, (struct sockaddr *)&local, sizeof local) < 0) die("bind");
        if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
            die("connect");
        c->sampled = i < sampled;
        c->cap = 65536;
        c->buf = malloc(c->cap);
        /* writable once connected: then the handshake goes out (``readable``) */
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev); /* stdin: the drain starts */

    struct epoll_event events[256];
    int draining = 0;
    double quiet_since = 0.0;
    long seen = -1;
    for (;;) {
        int n = epoll_wait(epfd, events, 256, draining ? 50 : 1000);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            Conn *c = events[i].data.ptr;
            if (c == NULL) {
                char line[64];
                if (read(0, line, sizeof line) < 0 && errno == EINTR) continue;
                draining = 1; /* a line or the end of stdin */
                quiet_since = mono();
                epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
                continue;
            }
            if (!c->connected) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                    errno = err;
                    die("connect");
                }
                c->connected = 1;
                send_all(c->fd, (const unsigned char *)request, sizeof request - 1);
                struct epoll_event in = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &in);
                continue;
            }
            readable(c, epfd);
        }
        if (draining) {
            long total = 0;
            for (int i = 0; i < count; i++) total += conns[i].frames;
            if (total != seen) {
                seen = total;
                quiet_since = mono();
            } else if (mono() - quiet_since >= 0.5) {
                break;
            }
        }
    }
    printf("{\"subscribers\": [");
    for (int i = 0; i < count; i++)
        printf("%s[%ld, %.6f, %.6f, %d]", i ? ", " : "", conns[i].frames, conns[i].first,
               conns[i].last, conns[i].closed);
    printf("], \"samples\": [");
    for (size_t i = 0; i < samples; i++)
        printf("%s[%ld, %.6f]", i ? ", " : "", sample_seq[i], sample_t[i]);
    printf("]}\n");
    return 0;
}
