/* The cheap client of bench/fix.py's paced phase: orders sent on a schedule over a FIX
   session the bench has logged on, each timed to its fill report.

   fix_pacer FD RATE COUNT SEQ SENDER PREFIX

   FD is the session's connected socket (inherited); RATE orders a second, COUNT of them, the
   first due 50 ms from now; SEQ the session's next MsgSeqNum(34); SENDER its SenderCompID(49);
   PREFIX eight hex digits that start every ClOrdID(11) (PREFIX-0000-4000-8000-<n, 12 digits>).
   Each order is bench/fix.py's limit buy of 0.1 BTC-USD at 100.00, framed here with its
   SendingTime(52) to the millisecond, sent when a CLOCK_MONOTONIC timerfd says it is due; the
   socket and the timer share one epoll loop. An order is done at the read that brings its
   ExecutionReport with OrdStatus(39)=2. Then it prints "seq NEXT" and one line an order,
   "n due sent filled" in CLOCK_MONOTONIC seconds (Python's time.perf_counter on Linux), and
   exits. It spends a few microseconds an order, where the Python client's select() loop
   spent ~0.7 ms at p99 against a FIX echo: the paced figure is then the server's. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "clients.h"

static void arm(int timer, double at) {
    struct itimerspec spec = {0};
    spec.it_value.tv_sec = (time_t)at;
    spec.it_value.tv_nsec = (long)((at - (double)(time_t)at) * 1e9);
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0)
        spec.it_value.tv_nsec = 1;
    if (timerfd_settime(timer, TFD_TIMER_ABSTIME, &spec, NULL) < 0)
        die("timerfd_settime");
}

/* One NewOrderSingle, framed as sandex.api.fix.codec.encode frames it. */
static size_t frame(char *out, const char *sender, long seq, const char *prefix, long n) {
    char body[512], stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof stamp, "%04d%02d%02d-%02d:%02d:%02d.%03ld", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000);
    int blen = snprintf(body, sizeof body,
                        "35=D\00149=%s\00152=%s\00156=Coinbase\00134=%ld\001"
                        "11=%s-0000-4000-8000-%012ld\00155=BTC-USD\00154=1\00140=2\001"
                        "44=100.00\00138=0.1\00159=1\001",
                        sender, stamp, seq, prefix, n);
    int len = sprintf(out, "8=FIXT.1.1\0019=%d\001%s", blen, body);
    unsigned sum = 0;
    for (int i = 0; i < len; i++)
        sum += (unsigned char)out[i];
    len += sprintf(out + len, "10=%03u\001", sum % 256);
    return (size_t)len;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: fix_pacer FD RATE COUNT SEQ SENDER PREFIX\n");
        return 2;
    }
    int fd = atoi(argv[1]);
    double rate = atof(argv[2]);
    long count = atol(argv[3]), seq = atol(argv[4]);
    const char *sender = argv[5], *prefix = argv[6];
    size_t plen = strlen(prefix);
    double *due = calloc(count, sizeof *due), *sent = calloc(count, sizeof *sent),
           *filled = calloc(count, sizeof *filled);
    if (count <= 0 || !due || !sent || !filled)
        die("calloc");
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
        die("fcntl");
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (timer < 0 || ep < 0)
        die("timerfd/epoll");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl");
    ev.data.fd = timer;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev) < 0)
        die("epoll_ctl");
    double start = mono() + 0.05;
    for (long n = 0; n < count; n++)
        due[n] = start + n / rate;
    arm(timer, due[0]);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap), out[1024];
    long next = 0, done = 0;
    while (done < count) {
        struct epoll_event got[2];
        int k = epoll_wait(ep, got, 2, 10000);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("epoll_wait (no fill report for 10 s)");
        for (int i = 0; i < k; i++) {
            if (got[i].data.fd == timer) {
                unsigned long long ticks;
                if (read(timer, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
                    die("read timerfd");
                double now = mono();
                while (next < count && due[next] <= now) {
                    size_t size = frame(out, sender, seq++, prefix, next);
                    sent[next] = mono();
                    for (size_t off = 0; off < size;) {  /* a short write: rare, finish it */
                        ssize_t w = send(fd, out + off, size - off, MSG_NOSIGNAL);
                        if (w < 0 && errno != EAGAIN && errno != EINTR)
                            die("send");
                        if (w > 0)
                            off += (size_t)w;
                    }
                    next++;
                    now = mono();
                }
                if (next < count)
                    arm(timer, due[next]);
                continue;
            }
            for (;;) {
                if (len == cap && !(buf = realloc(buf, cap *= 2)))
                    die("realloc");
                ssize_t r = recv(fd, buf + len, cap - len, 0);
                if (r == 0) {
                    fprintf(stderr, "fix_pacer: the server closed the session\n");
                    return 1;
                }
                if (r < 0) {
                    if (errno == EAGAIN || errno == EINTR)
                        break;
                    die("recv");
                }
                double now = mono();
                len += (size_t)r;
                size_t begin = 0;
                for (;;) {  /* each whole message: up to "\00110=" and its 3 digits and SOH */
                    char *end = memmem(buf + begin, len - begin, "\00110=", 4);
                    if (!end || (size_t)(end - buf) + 8 > len)
                        break;
                    size_t stop = (size_t)(end - buf) + 1;
                    char *status = memmem(buf + begin, stop - begin, "\00139=2\001", 6);
                    char *cl = memmem(buf + begin, stop - begin, "\00111=", 4);
                    if (status && cl && strncmp(cl + 4, prefix, plen) == 0) {
                        long n = strtol(cl + 4 + plen + 16, NULL, 10);
                        if (n >= 0 && n < count && filled[n] == 0) {
                            filled[n] = now;
                            done++;
                        }
                    }
                    begin = stop + 7;
                }
                memmove(buf, buf + begin, len - begin);
                len -= begin;
            }
        }
    }
    printf("seq %ld\n", seq);
    for (long n = 0; n < count; n++)
        printf("%ld %.9f %.9f %.9f\n", n, due[n], sent[n], filled[n]);
    return 0;
}
