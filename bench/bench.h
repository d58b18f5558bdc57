/* bench.h - helpers shared by the benchmarks (bench/bench_*.c): clocks, the
 * best-of-rounds bookkeeping and the one-line failure exit. Header-only:
 * each benchmark is one program built from its own .c file. */
#ifndef CVMM_BENCH_H
#define CVMM_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/common.h"

/* Seconds on a clock: CLOCK_THREAD_CPUTIME_ID where time spent descheduled
 * on a shared machine would swamp the ratio, CLOCK_MONOTONIC where the
 * measured work itself sleeps or does I/O. */
static inline double bench_clock(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double bench_wall(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

static inline double bench_cpu(void)
{
	return bench_clock(CLOCK_THREAD_CPUTIME_ID);
}

/* Best of rounds: keep the smallest time (or the largest rate). Rounds
 * alternate between the measured code and its baseline so that load from
 * other processes hits both alike. */
static inline void bench_keep_min(double *best, double t)
{
	if (t < *best)
		*best = t;
}

static inline void bench_keep_max(double *best, double v)
{
	if (v > *best)
		*best = v;
}

/* "<bench>: <what>: <err_msg()>" on stderr, exit 1. */
static inline void __attribute__((noreturn)) bench_die(const char *bench, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", bench, what, err_msg());
	exit(1);
}

#endif
