/* evloop.c - the device event loop: one epoll thread that calls a device's
 * callback when its host fd (tap, stdin, eventfd, ...) is ready. ev_add and
 * ev_del may be called from any thread, including from a callback.
 *
 * Deleted entries are freed, not kept: an event for one may already be in
 * the batch the loop thread is walking, so ev_del moves it to a graveyard
 * that the loop thread empties after each batch (it wakes itself for that
 * when the delete came from another thread). With the loop not running
 * ev_del frees at once. So a guest toggling a watch (virtio-console input)
 * costs no memory per toggle. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

struct ev_entry {
	int fd;
	bool deleted;
	ev_cb cb;
	void *opaque;
	struct ev_entry *next;
};

struct evloop {
	int epfd, wake_fd;
	pthread_t thread;
	bool running;
	volatile int stop;
	pthread_mutex_t lock; /* entries and graveyard */
	struct ev_entry *entries;
	struct ev_entry *graveyard; /* deleted, freed after the current batch */
	bool looping;               /* the loop thread may hold entries in a batch */
	pthread_t loop_tid;
};

static void free_list(struct ev_entry *e)
{
	for (struct ev_entry *n; e; e = n) {
		n = e->next;
		free(e);
	}
}

size_t evloop_entry_count(struct evloop *l)
{
	size_t n = 0;

	pthread_mutex_lock(&l->lock);
	for (struct ev_entry *e = l->entries; e; e = e->next)
		n++;
	for (struct ev_entry *e = l->graveyard; e; e = e->next)
		n++;
	pthread_mutex_unlock(&l->lock);
	return n;
}

int evloop_create(struct evloop **out)
{
	struct evloop *l = calloc(1, sizeof(*l));
	if (!l)
		return err_set(ENOMEM, "event loop: out of memory");
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->wake_fd < 0) {
		int e = errno;
		if (l->epfd >= 0)
			close(l->epfd);
		free(l);
		return err_set(e, "event loop: epoll/eventfd: %s", strerror(e));
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev);
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

int ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *opaque)
{
	struct ev_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return err_set(ENOMEM, "event loop: out of memory");
	e->fd = fd;
	e->cb = cb;
	e->opaque = opaque;
	struct epoll_event ev = { .events = events, .data.ptr = e };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;
		free(e);
		return err_set(err, "event loop: adding fd %d: %s", fd, strerror(err));
	}
	pthread_mutex_lock(&l->lock);
	e->next = l->entries;
	l->entries = e;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int ev_del(struct evloop *l, int fd)
{
	struct ev_entry *gone = NULL;
	bool wake = false;

	pthread_mutex_lock(&l->lock);
	for (struct ev_entry **p = &l->entries; *p; p = &(*p)->next)
		if ((*p)->fd == fd) {
			gone = *p;
			*p = gone->next;
			gone->deleted = true;
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			if (l->looping) {
				/* an event for it may be in the loop's current batch */
				gone->next = l->graveyard;
				l->graveyard = gone;
				wake = !pthread_equal(pthread_self(), l->loop_tid);
				gone = NULL;
			}
			pthread_mutex_unlock(&l->lock);
			free(gone);
			if (wake) {
				uint64_t one = 1;
				if (write(l->wake_fd, &one, sizeof(one)) < 0) {
					/* counter full: the loop is awake anyway */
				}
			}
			return 0;
		}
	pthread_mutex_unlock(&l->lock);
	return -ENOENT;
}

static void *loop_main(void *arg)
{
	struct evloop *l = arg;
	struct epoll_event evs[16];
	confine_thread(CONFINE_VMM); /* before the first event (no-op outside cvmm run) */
	while (!l->stop) {
		struct ev_entry *dead;
		uint64_t v;

		/* every batch that could name these has been walked */
		pthread_mutex_lock(&l->lock);
		dead = l->graveyard;
		l->graveyard = NULL;
		pthread_mutex_unlock(&l->lock);
		free_list(dead);
		int n = epoll_wait(l->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			struct ev_entry *e = evs[i].data.ptr;
			if (!e) { /* wake-up */
				if (read(l->wake_fd, &v, sizeof(v)) < 0) {
					/* EAGAIN: already drained */
				}
				continue;
			}
			pthread_mutex_lock(&l->lock);
			bool live = !e->deleted;
			pthread_mutex_unlock(&l->lock);
			if (live)
				e->cb(e->opaque, evs[i].events);
		}
	}
	return NULL;
}

int evloop_start(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	l->looping = true; /* before the thread can take a batch */
	int rc = pthread_create(&l->thread, NULL, loop_main, l);
	if (rc) {
		l->looping = false;
		pthread_mutex_unlock(&l->lock);
		return err_set(rc, "event loop: thread: %s", strerror(rc));
	}
	l->loop_tid = l->thread;
	pthread_mutex_unlock(&l->lock);
	l->running = true;
	return 0;
}

void evloop_stop(struct evloop *l)
{
	if (!l || !l->running)
		return;
	uint64_t one = 1;
	l->stop = 1;
	if (write(l->wake_fd, &one, sizeof(one)) < 0) {
		/* counter full: the loop is awake anyway */
	}
	pthread_join(l->thread, NULL);
	pthread_mutex_lock(&l->lock);
	l->looping = false;
	free_list(l->graveyard);
	l->graveyard = NULL;
	pthread_mutex_unlock(&l->lock);
	l->running = false;
}

void evloop_destroy(struct evloop *l)
{
	if (!l)
		return;
	evloop_stop(l);
	free_list(l->entries);
	free_list(l->graveyard);
	close(l->epfd);
	close(l->wake_fd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
