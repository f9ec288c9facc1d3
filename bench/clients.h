/* What the benchmarks' cheap C clients (feed_client.c, fix_pacer.c, fix_md_client.c) share:
   compiled into each by bench/kit.py's build_c (the include is found beside the source). */
#ifndef SANDEX_BENCH_CLIENTS_H
#define SANDEX_BENCH_CLIENTS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Seconds on the monotonic clock (intervals measured inside one client). */
static inline double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A system call failed: say which, and stop the client. */
static inline void die(const char *what) {
    perror(what);
    exit(1);
}

#endif
