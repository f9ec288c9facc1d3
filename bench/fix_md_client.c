/* The cheap reader of bench/fix_md.py: N FIX market data sessions in one epoll loop.

   fix_md_client PORT COUNT OPENINGS_FILE

   OPENINGS_FILE holds one line per session: the bytes it sends first (its signed Logon and
   its MarketDataRequest, made by the bench, which knows the keys). The client opens COUNT
   connections to 127.0.0.1:PORT, writes each its line, and prints "ready" once every session
   has had a snapshot (35=W). Then a line on stdin starts the measuring and a second line
   stops it: it prints one JSON object and exits:
   {"sessions": [[increments, closed], ...], "samples": [[session, rptseq, read, transact],
   ...]}, one sample per increment (35=X) read while measuring, with the CLOCK_REALTIME
   seconds of the read that brought it and its TransactTime(60) in seconds (both on this
   machine's clock), RptSeq(83) naming the event.

   Per message it costs a search for the next "\x0110=" and, for an increment, two more and a
   timegm: far less than the server spends per session, so the bench's figure is the
   server's, not this reader's queue. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "clients.h"

typedef struct {
    int fd, snapshot, closed;
    long increments;
    char *buf;
    size_t len, cap;
} Conn;

typedef struct {
    int session;
    long rptseq;
    double read, transact;
} Sample;

static Sample *samples;
static size_t nsamples, samples_cap;
static int measuring;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "YYYYMMDD-HH:MM:SS.ffffff" (UTC) as seconds since the epoch; -1 if it is not that. */
static double utc_seconds(const char *p, size_t n) {
    if (n < 17) return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
#define NUM(at, len) ({ int v_ = 0; for (int i_ = 0; i_ < (len); i_++) v_ = v_ * 10 + (p[(at) + i_] - '0'); v_; })
    tm.tm_year = NUM(0, 4) - 1900;
    tm.tm_mon = NUM(4, 2) - 1;
    tm.tm_mday = NUM(6, 2);
    tm.tm_hour = NUM(9, 2);
    tm.tm_min = NUM(12, 2);
    tm.tm_sec = NUM(15, 2);
    double fraction = 0, scale = 0.1;
    for (size_t i = 18; i < n && p[i] >= '0' && p[i] <= '9'; i++, scale /= 10)
        fraction += (p[i] - '0') * scale;
#undef NUM
    return (double)timegm(&tm) + fraction;
}

/* The value of "\x01TAG=" in [start, end) (its length in *n), or NULL. */
static const char *field(const char *start, const char *end, const char *tag, size_t *n) {
    size_t tag_len = strlen(tag);
    const char *at = memmem(start, end - start, tag, tag_len);
    if (at == NULL) return NULL;
    at += tag_len;
    const char *stop = memchr(at, 1, end - at);
    *n = (stop ? stop : end) - at;
    return at;
}

/* One message, from its BeginString to the SOH before its CheckSum. */
static void on_message(Conn *c, int index, const char *msg, const char *end, double t) {
    if (memmem(msg, end - msg, "\x01" "35=X\x01", 6) != NULL) {
        if (!measuring) return;
        c->increments++;
        size_t n1 = 0, n2 = 0;
        const char *seq = field(msg, end, "\x01" "83=", &n1);
        const char *stamp = field(msg, end, "\x01" "60=", &n2);
        if (nsamples == samples_cap) {
            samples_cap = samples_cap ? samples_cap * 2 : 65536;
            samples = realloc(samples, samples_cap * sizeof *samples);
            if (samples == NULL) die("realloc");
        }
        Sample *s = &samples[nsamples++];
        s->session = index;
        s->rptseq = seq ? strtol(seq, NULL, 10) : -1;
        s->read = t;
        s->transact = stamp ? utc_seconds(stamp, n2) : -1;
    } else if (!c->snapshot && memmem(msg, end - msg, "\x01" "35=W\x01", 6) != NULL) {
        c->snapshot = 1;
    }
}

static void on_readable(Conn *c, int index, int *snapshots) {
    for (;;) {
        if (c->cap - c->len < 65536) {
            c->cap = c->cap ? c->cap * 2 : 131072;
            c->buf = realloc(c->buf, c->cap);
            if (c->buf == NULL) die("realloc");
        }
        size_t room = c->cap - c->len;
        ssize_t got = recv(c->fd, c->buf + c->len, room, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
            c->closed = 1;
            close(c->fd);
            return;
        }
        if (got < 0) return;
        double t = now();
        c->len += got;
        char *start = c->buf, *end = c->buf + c->len;
        for (;;) {
            char *trailer = memmem(start, end - start, "\x01" "10=", 4);
            if (trailer == NULL || end - trailer < 8) break;
            int had = c->snapshot;
            on_message(c, index, start, trailer + 1, t);
            if (!had && c->snapshot) (*snapshots)++;
            start = trailer + 8;
        }
        c->len = end - start;
        memmove(c->buf, start, c->len);
        if ((size_t)got < room) return;  /* drained */
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fix_md_client PORT COUNT OPENINGS_FILE\n");
        return 2;
    }
    int port = atoi(argv[1]), count = atoi(argv[2]);
    FILE *openings = fopen(argv[3], "r");
    if (openings == NULL) die(argv[3]);
    Conn *conns = calloc(count, sizeof *conns);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)count};
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);  /* stdin: start, then stop */
    char *line = NULL;
    size_t line_cap = 0;
    for (int i = 0; i < count; i++) {
        ssize_t n = getline(&line, &line_cap, openings);
        if (n <= 1) { fprintf(stderr, "openings: too few lines\n"); return 2; }
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (write(fd, line, n - 1) != n - 1) die("write");
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        conns[i].fd = fd;
        ev.data.u32 = (unsigned)i;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    int snapshots = 0, stops = 0, announced = 0;
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, 1000);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int k = 0; k < n; k++) {
            unsigned i = events[k].data.u32;
            if (i == (unsigned)count) {
                char chunk[256];
                ssize_t got = read(0, chunk, sizeof chunk);
                int lines = 0;
                for (ssize_t j = 0; j < got; j++) lines += chunk[j] == '\n';
                if (got <= 0) lines = 2;
                for (int j = 0; j < lines; j++) {
                    if (stops++ == 0) measuring = 1;
                    else measuring = 0;
                }
                if (stops >= 2) goto done;
                continue;
            }
            Conn *c = &conns[i];
            if (c->closed) continue;
            on_readable(c, (int)i, &snapshots);
            if (c->closed) epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        }
        if (!announced && snapshots >= count) {
            announced = 1;
            printf("ready\n");
            fflush(stdout);
        }
    }
done:
    printf("{\"sessions\": [");
    for (int i = 0; i < count; i++)
        printf("%s[%ld, %d]", i ? ", " : "", conns[i].increments, conns[i].closed);
    printf("], \"samples\": [");
    for (size_t j = 0; j < nsamples; j++)
        printf("%s[%d, %ld, %.6f, %.6f]", j ? ", " : "", samples[j].session, samples[j].rptseq,
               samples[j].read, samples[j].transact);
    printf("]}\n");
    return 0;
}
