/* conout.c - guest console output that never blocks (see conout.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/conout.h"
#include "vmm/vm.h"

void conout_init(struct conout *o, int fd, struct evloop *loop, pthread_mutex_t *lock)
{
	struct stat st;
	char path[64];
	int flags;

	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->own_fd = o->restore_flags = -1;
	o->loop = loop;
	o->lock = lock;
	o->line_start = true;
	o->filter = fd >= 0 && isatty(fd);
	if (fd < 0 || fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return; /* nothing to write, or writes that do not wait for a reader */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || (flags & O_NONBLOCK))
		return;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		/* a description of our own: stdin/stderr and the parent's
		 * shell keep their blocking mode */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		o->own_fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (o->own_fd >= 0) {
			o->fd = o->own_fd;
			return;
		}
	}
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0)
		o->restore_flags = flags;
}

/* Write buffered bytes while the fd takes them; false when it is full. */
static bool flush(struct conout *o)
{
	while (o->len) {
		size_t chunk = CONOUT_BUF - o->head < o->len ? CONOUT_BUF - o->head : o->len;
		ssize_t n = write(o->fd, o->buf + o->head, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0) { /* output gone: nothing will take these */
			o->dropped += o->len;
			o->head = o->len = 0;
			return true;
		}
		o->head = (o->head + (size_t)n) % CONOUT_BUF;
		o->len -= (size_t)n;
	}
	o->head = 0;
	return true;
}

static void unwatch(struct conout *o)
{
	if (o->watched) {
		ev_del(o->loop, o->fd);
		o->watched = false;
	}
}

static void writable(void *opaque, uint32_t events)
{
	struct conout *o = opaque;

	(void)events;
	pthread_mutex_lock(o->lock);
	if (flush(o))
		unwatch(o);
	pthread_mutex_unlock(o->lock);
}

static void put_raw(struct conout *o, const void *p, size_t len)
{
	const uint8_t *b = p;

	if (o->fd < 0 || !len)
		return;
	if (o->len && !flush(o))
		goto queue; /* keep the order: behind what already waits */
	while (len) {
		ssize_t n = write(o->fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			o->dropped += len; /* output gone */
			return;
		}
		b += n;
		len -= (size_t)n;
	}
queue:
	if (!len)
		return;
	if (!o->buf && !(o->buf = malloc(CONOUT_BUF))) {
		o->dropped += len;
		return;
	}
	size_t room = CONOUT_BUF - o->len;
	if (len > room) {
		o->dropped += len - room;
		len = room;
	}
	for (size_t i = 0; i < len; i++)
		o->buf[(o->head + o->len + i) % CONOUT_BUF] = b[i];
	o->len += len;
	if (o->len && !o->watched && o->loop)
		o->watched = ev_add(o->loop, o->fd, EPOLLOUT, writable, o) == 0;
}

void conout_set_filter(struct conout *o, bool on)
{
	o->filter = on;
	o->line_start = true;
	o->held = 0;
}

static const char own_prefix[] = "cvmm:";
#define GUEST_MARK "[guest] "

void conout_write(struct conout *o, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t out[256 + sizeof(GUEST_MARK) + sizeof(own_prefix)];
	size_t n = 0;

	if (!o->filter) {
		put_raw(o, p, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t c = b[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\b') || c == 0x7f)
			c = '?';
		if (o->line_start || o->held) {
			if (c == (uint8_t)own_prefix[o->held]) {
				o->line_start = false;
				if (++o->held < sizeof(own_prefix) - 1)
					continue; /* maybe the start of "cvmm:" */
				memcpy(out + n, GUEST_MARK, sizeof(GUEST_MARK) - 1);
				n += sizeof(GUEST_MARK) - 1;
				memcpy(out + n, own_prefix, o->held);
				n += o->held;
				o->held = 0;
				goto next;
			}
			/* not it: the held bytes were ordinary text */
			memcpy(out + n, own_prefix, o->held);
			n += o->held;
			o->held = 0;
		}
		out[n++] = c;
		o->line_start = c == '\n' || c == '\r';
next:
		if (n >= 256) {
			put_raw(o, out, n);
			n = 0;
		}
	}
	put_raw(o, out, n);
}

void conout_fini(struct conout *o)
{
	if (o->held) { /* a line that began like "cvmm:" and then stopped */
		put_raw(o, own_prefix, o->held);
		o->held = 0;
	}
	if (o->len && !flush(o)) {
		o->dropped += o->len;
		o->len = 0;
	}
	if (o->loop && o->watched)
		unwatch(o);
	if (o->restore_flags >= 0)
		fcntl(o->fd, F_SETFL, o->restore_flags);
	if (o->own_fd >= 0)
		close(o->own_fd);
	free(o->buf);
	o->buf = NULL;
	o->own_fd = o->restore_flags = -1;
}
