/* core.c - the virtio core shared by every device: device state, reset,
 * feature checks, and the split-virtqueue walker (virtio 1.2 §2.7).
 *
 * Everything in the rings comes from the guest and is hostile: every index
 * is range-checked, every buffer address goes through gm_ptr(), chains are
 * bounded by the queue size (which also catches loops), indirect tables are
 * validated (§2.7.5.3), and a violation marks the device broken
 * (DEVICE_NEEDS_RESET, §2.1.2) instead of touching anything out of bounds. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/virtio/virtio_dev.h"

int virtio_log_fd = 2;

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t (*virtio_log_clock)(void) = monotonic_ns;

/* One device-error line, through the device's token bucket (dev->lock
 * held): a guest breaking and resetting a queue in a loop gets
 * VIRTIO_LOG_BURST lines, then one per interval with a count of the rest. */
static void dev_log(struct virtio_dev *d, const char *why)
{
	uint64_t now = virtio_log_clock();

	if (virtio_log_fd < 0)
		return;
	if (d->log_tokens < VIRTIO_LOG_BURST && now - d->log_refill_ns >= VIRTIO_LOG_INTERVAL_NS) {
		uint64_t add = (now - d->log_refill_ns) / VIRTIO_LOG_INTERVAL_NS;
		d->log_tokens = add >= VIRTIO_LOG_BURST - d->log_tokens ? VIRTIO_LOG_BURST
									 : d->log_tokens + (unsigned)add;
		d->log_refill_ns = now;
	}
	if (!d->log_tokens) {
		d->log_suppressed++;
		return;
	}
	d->log_tokens--;
	if (d->log_tokens + 1 == VIRTIO_LOG_BURST)
		d->log_refill_ns = now; /* the interval runs from the first line used */
	if (d->log_suppressed)
		dprintf(virtio_log_fd, "cvmm: %s: %llu more device errors suppressed\n", d->ops->name,
			(unsigned long long)d->log_suppressed);
	d->log_suppressed = 0;
	dprintf(virtio_log_fd, "cvmm: %s: %s; device needs reset\n", d->ops->name, why);
}

/* ---------------- registry ---------------- */
static struct virtio_dev *registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

void virtio_registry_add(struct virtio_dev *d)
{
	struct virtio_dev **p;

	pthread_mutex_lock(&registry_lock);
	for (p = &registry; *p; p = &(*p)->next)
		;
	d->next = NULL;
	*p = d;
	pthread_mutex_unlock(&registry_lock);
}

void virtio_registry_remove(struct virtio_dev *d)
{
	pthread_mutex_lock(&registry_lock);
	for (struct virtio_dev **p = &registry; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
}

struct virtio_dev *virtio_registry_first(void)
{
	return registry;
}

/* ---------------- device state ---------------- */
static void queue_reset(struct virtqueue *vq)
{
	vq->size = vq->max_size;
	vq->enabled = false;
	vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->last_avail = vq->used_idx = 0;
	vq->rekick = false;
	vq->signalled_valid = false;
}

void virtio_dev_init(struct virtio_dev *d, struct vm *vm, struct guest_mem *mem,
		     const struct virtio_dev_ops *ops, unsigned num_queues,
		     uint16_t queue_max, uint64_t device_features)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->vm = vm;
	d->mem = mem;
	pthread_mutex_init(&d->lock, NULL);
	/* §6.1: VERSION_1 (modern only) and ACCESS_PLATFORM (a CC guest must
	 * bounce through swiotlb since the device only sees shared memory). */
	d->features = device_features | 1ull << VIRTIO_F_VERSION_1 |
		      1ull << VIRTIO_F_ACCESS_PLATFORM | 1ull << VIRTIO_F_INDIRECT_DESC |
		      1ull << VIRTIO_F_EVENT_IDX;
	if (num_queues > VIRTIO_MAX_QUEUES)
		num_queues = VIRTIO_MAX_QUEUES;
	if (queue_max > VQ_CHAIN_MAX)
		queue_max = VQ_CHAIN_MAX;
	d->num_queues = num_queues;
	d->log_tokens = VIRTIO_LOG_BURST;
	d->rekick_fd = -1;
	d->config_msix_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		d->vq[i].dev = d;
		d->vq[i].index = i;
		d->vq[i].max_size = i < num_queues ? queue_max : 0;
		d->vq[i].kick_fd = d->vq[i].call_fd = -1;
		queue_reset(&d->vq[i]);
	}
}

bool virtio_features_ok(const struct virtio_dev *d)
{
	/* §2.2 / §6.1: a modern-only device fails FEATURES_OK unless the driver
	 * accepted VERSION_1, and the driver may only accept offered bits. */
	return (d->driver_features & 1ull << VIRTIO_F_VERSION_1) &&
	       !(d->driver_features & ~d->features);
}

bool virtio_dev_running(const struct virtio_dev *d)
{
	return !d->broken && (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       (d->status & VIRTIO_STATUS_FEATURES_OK);
}

void virtio_dev_reset(struct virtio_dev *d)
{
	if (d->ops->reset)
		d->ops->reset(d);
	d->status = 0;
	d->driver_features = 0;
	d->broken = false;
	d->broken_reason[0] = 0;
	d->isr = 0;
	d->config_msix_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		queue_reset(&d->vq[i]);
}

void virtio_dev_set_broken(struct virtio_dev *d, const char *why)
{
	if (d->broken)
		return;
	d->broken = true;
	snprintf(d->broken_reason, sizeof(d->broken_reason), "%s", why);
	/* §2.1.2: DEVICE_NEEDS_RESET plus a configuration change notification
	 * tells the driver to reset; the VMM itself keeps running. */
	d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	dev_log(d, why);
	if (d->transport && d->transport->config_irq)
		d->transport->config_irq(d);
}

static int vq_fail(struct virtqueue *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vq_fail(struct virtqueue *vq, const char *fmt, ...)
{
	char msg[128], full[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "queue %u: %s", vq->index, msg);
	err_set(EIO, "%s: %s", vq->dev->ops->name, full);
	virtio_dev_set_broken(vq->dev, full);
	return -EIO;
}

/* ---------------- split virtqueue (§2.7) ---------------- */
#define DESC_SIZE 16
static uint64_t avail_bytes(uint16_t n) { return 6 + 2ull * n; }  /* §2.7.6 */
static uint64_t used_bytes(uint16_t n) { return 6 + 8ull * n; }   /* §2.7.8 */

int vq_validate(struct virtqueue *vq)
{
	const struct guest_mem *m = vq->dev->mem;
	uint16_t n = vq->size;

	if (n == 0 || n > vq->max_size || (n & (n - 1)))
		return vq_fail(vq, "queue size %u is not a power of two <= %u", n, vq->max_size);
	/* §2.7 alignment: descriptor table 16, avail 2, used 4 */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return vq_fail(vq, "misaligned ring (desc 0x%llx avail 0x%llx used 0x%llx)",
			       (unsigned long long)vq->desc_gpa, (unsigned long long)vq->avail_gpa,
			       (unsigned long long)vq->used_gpa);
	if (!gm_ptr(m, vq->desc_gpa, (uint64_t)DESC_SIZE * n))
		return vq_fail(vq, "descriptor table at 0x%llx is not guest RAM",
			       (unsigned long long)vq->desc_gpa);
	if (!gm_ptr(m, vq->avail_gpa, avail_bytes(n)))
		return vq_fail(vq, "avail ring at 0x%llx is not guest RAM",
			       (unsigned long long)vq->avail_gpa);
	if (!gm_ptr(m, vq->used_gpa, used_bytes(n)))
		return vq_fail(vq, "used ring at 0x%llx is not guest RAM",
			       (unsigned long long)vq->used_gpa);
	vq->last_avail = vq->used_idx = 0;
	vq->signalled_valid = false;
	return 0;
}

/* Guest memory changes under us (other vCPUs): read each ring field once. */
static uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16((const uint8_t *)&v);
}

static bool event_idx(const struct virtqueue *vq)
{
	return vq->dev->driver_features & 1ull << VIRTIO_F_EVENT_IDX;
}

/* §2.7.10: avail_event lives after the used ring's n elements */
static void put_avail_event(struct virtqueue *vq, uint16_t n, uint16_t v)
{
	uint8_t *used = gm_ptr(vq->dev->mem, vq->used_gpa, used_bytes(n)), b[2];

	if (!used)
		return; /* vq_push reports it */
	put_le16(b, v);
	memcpy(used + 4 + 8u * n, b, 2);
}

static int add_buf(struct virtqueue *vq, struct vq_chain *c, void *p, uint32_t len, bool writable,
		   unsigned idx)
{
	if (writable) {
		if (c->n_in >= VQ_CHAIN_MAX)
			return vq_fail(vq, "too many writable descriptors");
		c->in[c->n_in].iov_base = p;
		c->in[c->n_in++].iov_len = len;
		c->in_len += len;
	} else {
		/* §2.7.4.2: device-readable descriptors come before writable ones */
		if (c->n_in)
			return vq_fail(vq, "descriptor %u: readable after writable", idx);
		if (c->n_out >= VQ_CHAIN_MAX)
			return vq_fail(vq, "too many readable descriptors");
		c->out[c->n_out].iov_base = p;
		c->out[c->n_out++].iov_len = len;
		c->out_len += len;
	}
	if (c->in_len > UINT32_MAX || c->out_len > UINT32_MAX)
		return vq_fail(vq, "chain longer than 4 GiB");
	return 0;
}

int vq_pop(struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_dev *d = vq->dev;
	const struct guest_mem *m = d->mem;
	uint16_t n = vq->size, avail_idx, pending, head, i;
	const uint8_t *avail, *table;
	unsigned n_table, count = 0, limit;
	uint64_t visited[VQ_CHAIN_MAX / 64];
	bool indirect = false;

	if (!vq->enabled || d->broken)
		return 0;
	/* the walker's own bound (visited[] and the chain arrays hold
	 * VQ_CHAIN_MAX): it does not rely on the transport's vq_validate */
	if (n == 0 || n > VQ_CHAIN_MAX || (n & (n - 1)))
		return vq_fail(vq, "queue size %u is not a power of two <= %u", n, VQ_CHAIN_MAX);
	avail = gm_ptr(m, vq->avail_gpa, avail_bytes(n));
	table = gm_ptr(m, vq->desc_gpa, (uint64_t)DESC_SIZE * n);
	if (!avail || !table)
		return vq_fail(vq, "rings are no longer guest RAM");
	avail_idx = load16(avail + 2);
	pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0 && event_idx(vq)) {
		/* ask for a notification at the next entry, then look again:
		 * the driver may have added one before it saw avail_event */
		put_avail_event(vq, n, vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load16(avail + 2);
		pending = (uint16_t)(avail_idx - vq->last_avail);
	}
	if (pending == 0)
		return 0;
	/* §2.7.13.3: the driver can be at most queue-size entries ahead */
	if (pending > n)
		return vq_fail(vq, "avail idx %u is %u entries ahead of the device (queue size %u)",
			       avail_idx, pending, n);
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* read ring entries after idx */
	head = load16(avail + 4 + 2u * (vq->last_avail % n));
	if (head >= n)
		return vq_fail(vq, "avail ring head %u >= queue size %u", head, n);

	memset(c, 0, offsetof(struct vq_chain, out));
	c->head = head;
	memset(visited, 0, sizeof(visited));
	n_table = n;
	limit = n < VQ_CHAIN_MAX ? n : VQ_CHAIN_MAX;
	i = head;
	for (;;) {
		uint8_t desc[DESC_SIZE];
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
		void *p = NULL;
		int r;

		if (i >= n_table)
			return vq_fail(vq, "descriptor next %u outside a table of %u", i, n_table);
		if (visited[i / 64] & 1ull << (i % 64))
			return vq_fail(vq, "descriptor %u: loop in the chain", i);
		visited[i / 64] |= 1ull << (i % 64);
		memcpy(desc, table + (size_t)DESC_SIZE * i, DESC_SIZE);
		addr = le64(desc);
		len = le32(desc + 8);
		flags = le16(desc + 12);
		next = le16(desc + 14);

		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/* §2.7.5.3.1: only with the feature, not nested, not with
			 * NEXT, a whole number of 16-byte descriptors */
			if (!(d->driver_features & 1ull << VIRTIO_F_INDIRECT_DESC))
				return vq_fail(vq, "descriptor %u: indirect without VIRTIO_F_INDIRECT_DESC", i);
			if (indirect)
				return vq_fail(vq, "descriptor %u: nested indirect table", i);
			if (flags & VIRTQ_DESC_F_NEXT)
				return vq_fail(vq, "descriptor %u: indirect together with next", i);
			if (len == 0 || len % DESC_SIZE)
				return vq_fail(vq, "descriptor %u: indirect table length %u", i, len);
			if (len / DESC_SIZE > limit)
				return vq_fail(vq, "descriptor %u: indirect table of %u descriptors > queue size %u",
					       i, len / DESC_SIZE, limit);
			table = gm_ptr(m, addr, len);
			if (!table)
				return vq_fail(vq, "descriptor %u: indirect table [0x%llx, +%u) is not guest RAM",
					       i, (unsigned long long)addr, len);
			indirect = true;
			n_table = len / DESC_SIZE;
			memset(visited, 0, sizeof(visited));
			i = 0;
			continue;
		}
		/* §2.7.5.3.1 / §2.7.4.2: a chain is never longer than the queue,
		 * counting the descriptors inside an indirect table too */
		if (++count > limit)
			return vq_fail(vq, "chain longer than queue size %u", limit);
		if (len) {
			p = gm_ptr(m, addr, len);
			if (!p)
				return vq_fail(vq, "descriptor %u: buffer [0x%llx, +%u) is not guest RAM", i,
					       (unsigned long long)addr, len);
		}
		r = add_buf(vq, c, p, len, flags & VIRTQ_DESC_F_WRITE, i);
		if (r < 0)
			return r;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		i = next;
	}
	vq->last_avail++;
	return 1;
}

int vq_push(struct virtqueue *vq, const struct vq_chain *c, uint32_t written)
{
	uint8_t *used;
	uint16_t n = vq->size;
	uint8_t *elem;

	if (!vq->enabled || vq->dev->broken)
		return -EIO;
	if (n == 0 || n > VQ_CHAIN_MAX || (n & (n - 1)))
		return vq_fail(vq, "queue size %u is not a power of two <= %u", n, VQ_CHAIN_MAX);
	used = gm_ptr(vq->dev->mem, vq->used_gpa, used_bytes(n));
	if (!used)
		return vq_fail(vq, "used ring is no longer guest RAM");
	if (c->head >= n)
		return vq_fail(vq, "used element head %u >= queue size %u", c->head, n);
	if (written > c->in_len)
		written = (uint32_t)c->in_len;
	/* §2.7.8: write the element, then publish it by bumping idx */
	elem = used + 4 + 8u * (vq->used_idx % n);
	put_le32(elem, c->head);
	put_le32(elem + 4, written);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx++;
	uint8_t idx[2];
	put_le16(idx, vq->used_idx);
	memcpy(used + 2, idx, 2);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_fetch_add(&vq->dev->stat_requests, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vq->dev->stat_out_bytes, c->out_len, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vq->dev->stat_in_bytes, written, __ATOMIC_RELAXED);
	return 0;
}

/* Whether the driver wants this interrupt (see virtio_dev.h). */
static bool vq_wants_interrupt(struct virtqueue *vq)
{
	uint16_t n = vq->size, old;
	const uint8_t *avail;
	bool valid;

	if (vq->kick_fd >= 0 && vq->call_fd >= 0)
		return true; /* vhost decided */
	if (!vq->enabled || n == 0 || n > VQ_CHAIN_MAX || (n & (n - 1)))
		return true;
	avail = gm_ptr(vq->dev->mem, vq->avail_gpa, avail_bytes(n));
	if (!avail)
		return true;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used idx out before used_event in */
	if (!event_idx(vq))
		return !(load16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true; /* the first decision since the queue was enabled */
	return vq_need_event(load16(avail + 4 + 2u * n), vq->used_idx, old);
}

void vq_interrupt(struct virtqueue *vq)
{
	struct virtio_dev *d = vq->dev;

	if (!vq_wants_interrupt(vq))
		return;
	if (d->transport && d->transport->queue_irq)
		d->transport->queue_irq(d, vq);
}

/* Chains waiting on the avail ring (a peek; vq_pop does the checks). */
static bool vq_has_avail(struct virtqueue *vq)
{
	const uint8_t *avail = gm_ptr(vq->dev->mem, vq->avail_gpa, avail_bytes(vq->size));

	return vq->enabled && !vq->dev->broken && avail && load16(avail + 2) != vq->last_avail;
}

void vq_serve(struct virtqueue *vq, uint32_t (*handle)(void *arg, struct vq_chain *c), void *arg)
{
	struct vq_chain c;
	bool used = false;
	unsigned budget = vq->size ? vq->size : 1; /* vq_pop judges a size of 0 */

	while (budget && vq_pop(vq, &c) == 1) {
		if (vq_push(vq, &c, handle(arg, &c)) < 0)
			return;
		used = true;
		budget--;
	}
	if (!budget && vq_has_avail(vq)) {
		/* the rest on the event loop, after the other fds had a turn */
		vq->rekick = true;
		virtio_eventfd_signal(vq->dev->rekick_fd);
	}
	if (used)
		vq_interrupt(vq);
}

static void rekick_cb(void *opaque, uint32_t events)
{
	struct virtio_dev *d = opaque;

	(void)events;
	if (!virtio_wake_clear(d->rekick_fd))
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->num_queues; i++) {
		struct virtqueue *vq = &d->vq[i];

		if (!vq->rekick)
			continue;
		vq->rekick = false;
		if (virtio_dev_running(d) && vq->enabled && d->ops->notify)
			d->ops->notify(d, vq);
	}
	pthread_mutex_unlock(&d->lock);
}

int virtio_rekick_open(struct virtio_dev *d)
{
	int fd = virtio_wake_open(d, rekick_cb, d);

	if (fd < 0)
		return fd;
	d->rekick_fd = fd;
	return 0;
}

void virtio_rekick_close(struct virtio_dev *d)
{
	virtio_wake_close(d, d->rekick_fd);
	d->rekick_fd = -1;
}

void virtio_eventfd_signal(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* see virtio_dev.h: nothing to do */
	}
}

int virtio_wake_open(struct virtio_dev *d, ev_cb cb, void *opaque)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), r;

	if (fd < 0)
		return err_set(errno, "%s: eventfd: %s", d->ops->name, strerror(errno));
	r = ev_add(vm_evloop(d->vm), fd, EPOLLIN, cb, opaque);
	if (r < 0) {
		close(fd);
		return err_set(-r, "%s: event loop: %s", d->ops->name, strerror(-r));
	}
	return fd;
}

bool virtio_wake_clear(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) >= 0 || errno == EAGAIN;
}

void virtio_wake_close(struct virtio_dev *d, int fd)
{
	if (fd < 0)
		return;
	ev_del(vm_evloop(d->vm), fd);
	close(fd);
}

/* ---------------- iovec helpers ---------------- */
/* Copy between the chain's iovecs from byte off on and a flat buffer, in
 * the direction to_iov says; returns the bytes copied. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, uint8_t *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, buf + done, k);
		else
			memcpy(buf + done, (uint8_t *)iov[i].iov_base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	/* the buffer is only read in this direction */
	return iov_copy(iov, n, off, (uint8_t *)buf, len, true);
}
