/* conout.h - guest console output to a host fd (stdout) that never blocks a
 * vCPU: the 8250 and virtio-console write through it. */
#ifndef CVMM_VMM_CONOUT_H
#define CVMM_VMM_CONOUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;

#define CONOUT_BUF (64u * 1024) /* bytes held while the reader is behind */

/* Writes go to a non-blocking file description of the output (a pipe, FIFO
 * or terminal is reopened through /proc/self/fd with O_NONBLOCK, so the
 * caller's stdout keeps its flags; failing that, O_NONBLOCK is set on it and
 * given back by conout_fini). What the reader has no room for waits in a
 * buffer of CONOUT_BUF bytes, flushed by the event loop when the fd is
 * writable again (and on the next output); beyond that guest output is
 * dropped and counted. So a full pipe, a paused terminal or a reader that
 * never reads costs the guest its output, never a vCPU or shutdown. */
struct conout {
	int fd;                /* where writes go */
	int own_fd;            /* the reopened description (closed by fini), or -1 */
	int restore_flags;     /* F_SETFL to give back on fini, or -1 */
	struct evloop *loop;   /* NULL: no flush on writability (tests) */
	pthread_mutex_t *lock; /* the device's lock: held around conout_write,
				  taken by the event-loop flush */
	bool watched;
	uint8_t *buf;          /* ring of CONOUT_BUF, allocated at first need */
	size_t head, len;
	uint64_t dropped;      /* guest bytes dropped (reader too slow or gone) */
	bool filter;           /* terminal: neutralise controls and "cvmm:" lines */
	bool line_start;       /* filter: the next byte begins a line */
	unsigned held;         /* filter: bytes of "cvmm:" matched at line start */
};

/* On a terminal (isatty at init, or conout_set_filter) guest bytes cannot
 * pass for cvmm's own: control characters other than tab, newline,
 * carriage return and backspace (so ESC sequences, bells, title changes)
 * become '?', and a guest line that begins with "cvmm:" is shown as
 * "[guest] cvmm:". Pipes and files get the bytes unchanged. */
void conout_set_filter(struct conout *o, bool on);
/* fd < 0: output discarded. Never fails (a non-pollable fd is written
 * directly: regular files do not block). */
void conout_init(struct conout *o, int fd, struct evloop *loop, pthread_mutex_t *lock);
/* Queue and write what the fd takes now (o->lock held by the caller). */
void conout_write(struct conout *o, const void *p, size_t len);
/* One last non-blocking flush, stop watching, give the fd back. */
void conout_fini(struct conout *o);
/* Bytes waiting in the buffer. */
static inline size_t conout_pending(const struct conout *o) { return o->len; }

#endif
