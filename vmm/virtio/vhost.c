/* vhost.c - handing some of a device's virtqueues to a vhost kernel backend
 * (Linux drivers/vhost: vhost-net, vhost-vsock). The kernel then walks those
 * rings itself: it validates every descriptor against the memory table
 * (guest RAM only), so no ring of such a queue is ever read here.
 *
 * Notifications: the driver's notify write reaches the kick eventfd through
 * KVM_IOEVENTFD on the queue's notify address (registered while running;
 * without it virtio_vhost_kick forwards the exit), and the backend's call
 * eventfd is watched by the event loop, which raises the queue's interrupt
 * through the transport (MSI-X vector or INTx). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/kvm_uapi.h"
#include "vmm/virtio/vhost.h"
#include "vmm/virtio/virtio_dev.h"

int virtio_vhost_ioctl(struct virtio_vhost *h, unsigned long req, void *arg, const char *req_name)
{
	if (ioctl(h->fd, req, arg) < 0)
		return err_set(errno, "%s: %s: %s", h->what, req_name, strerror(errno));
	return 0;
}

/* the backend used buffers on a queue: interrupt the guest for it */
static void vhost_call(void *opaque, uint32_t events)
{
	struct virtqueue *vq = opaque;
	uint64_t v;

	(void)events;
	if (read(vq->call_fd, &v, sizeof(v)) < 0)
		return;
	pthread_mutex_lock(&vq->dev->lock);
	if (virtio_dev_running(vq->dev))
		vq_interrupt(vq);
	pthread_mutex_unlock(&vq->dev->lock);
}

int virtio_vhost_open(struct virtio_vhost *h, struct virtio_dev *d, int fd, const char *what,
		      unsigned first, unsigned n)
{
	int r;

	memset(h, 0, sizeof(*h));
	h->dev = d;
	h->what = what;
	h->fd = fd;
	h->first = first;
	h->n = n;
	if (n > VIRTIO_VHOST_MAX_RINGS || first + n > d->num_queues) {
		r = err_set(EINVAL, "%s: queues %u..%u are not the device's", what, first, first + n - 1);
		goto fail;
	}
	if ((r = virtio_vhost_ioctl(h, VIRTIO_VHOST_SET_OWNER, NULL, "VHOST_SET_OWNER")) ||
	    (r = virtio_vhost_ioctl(h, VIRTIO_VHOST_GET_FEATURES, &h->features, "VHOST_GET_FEATURES")))
		goto fail;
	if (!(h->features & 1ull << VIRTIO_F_VERSION_1)) {
		r = err_set(ENOTSUP, "%s: the backend does not support VIRTIO_F_VERSION_1", what);
		goto fail;
	}
	/* ring features the kernel would not honour on its queues are not offered */
	d->features &= ~((1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_F_EVENT_IDX) & ~h->features);
	for (unsigned i = 0; i < n; i++) {
		struct virtqueue *vq = &d->vq[first + i];
		vq->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		vq->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vq->kick_fd < 0 || vq->call_fd < 0) {
			r = err_set(errno, "%s: eventfd: %s", what, strerror(errno));
			goto fail;
		}
		r = ev_add(vm_evloop(d->vm), vq->call_fd, EPOLLIN, vhost_call, vq);
		if (r < 0) {
			close(vq->call_fd);
			vq->call_fd = -1;
			r = err_set(-r, "%s: event loop: %s", what, strerror(-r));
			goto fail;
		}
	}
	return 0;
fail:
	virtio_vhost_close(h);
	return r;
}

void virtio_vhost_close(struct virtio_vhost *h)
{
	if (!h->dev)
		return;
	for (unsigned i = 0; i < h->n; i++) {
		struct virtqueue *vq = &h->dev->vq[h->first + i];
		if (vq->call_fd >= 0) {
			ev_del(vm_evloop(h->dev->vm), vq->call_fd);
			close(vq->call_fd);
		}
		if (vq->kick_fd >= 0)
			close(vq->kick_fd);
		vq->call_fd = vq->kick_fd = -1;
	}
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->dev = NULL;
}

static void ioeventfd(struct virtio_vhost *h, unsigned ring, bool on)
{
	struct virtqueue *vq = &h->dev->vq[h->first + ring];
	struct pci_dev *p = virtio_pci_dev(h->dev);
	struct kvm_ioeventfd io = { .len = 2, .fd = vq->kick_fd };

	if (on) {
		if (!p || !p->bar_addr[VPCI_BAR_VIRTIO])
			return;
		io.addr = p->bar_addr[VPCI_BAR_VIRTIO] + VPCI_NOTIFY_OFF + (uint64_t)VPCI_NOTIFY_MULT * vq->index;
		/* without it notifications still arrive through virtio_vhost_kick */
		if (ioctl(vm_fd(h->dev->vm), KVM_IOEVENTFD, &io) == 0)
			h->ioevent_addr[ring] = io.addr;
	} else if (h->ioevent_addr[ring]) {
		io.addr = h->ioevent_addr[ring];
		io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
		ioctl(vm_fd(h->dev->vm), KVM_IOEVENTFD, &io);
		h->ioevent_addr[ring] = 0;
	}
}

static int set_mem_table(struct virtio_vhost *h)
{
	const struct guest_mem *m = h->dev->mem;
	struct virtio_vhost_memory *mt = calloc(1, sizeof(*mt) + 2 * sizeof(mt->regions[0]));
	int r;

	if (!mt)
		return err_set(ENOMEM, "%s: out of memory", h->what);
	/* vm.h: RAM is [0, low_size) and [4 GiB, 4 GiB + size - low_size) */
	mt->regions[0] = (struct virtio_vhost_memory_region){ 0, m->low_size, (uintptr_t)m->host, 0 };
	mt->nregions = 1;
	if (m->size > m->low_size)
		mt->regions[mt->nregions++] = (struct virtio_vhost_memory_region){
			1ull << 32, m->size - m->low_size, (uintptr_t)(m->host + m->low_size), 0 };
	r = virtio_vhost_ioctl(h, VIRTIO_VHOST_SET_MEM_TABLE, mt, "VHOST_SET_MEM_TABLE");
	free(mt);
	return r;
}

static int setup_ring(struct virtio_vhost *h, unsigned ring)
{
	struct virtqueue *vq = &h->dev->vq[h->first + ring];
	struct virtio_vhost_vring_state num = { ring, vq->size }, base = { ring, 0 };
	struct virtio_vhost_vring_file kick = { ring, vq->kick_fd }, call = { ring, vq->call_fd };
	struct virtio_vhost_vring_addr addr = { .index = ring };
	void *desc = gm_ptr(h->dev->mem, vq->desc_gpa, 16ull * vq->size);
	void *avail = gm_ptr(h->dev->mem, vq->avail_gpa, 6 + 2ull * vq->size);
	void *used = gm_ptr(h->dev->mem, vq->used_gpa, 6 + 8ull * vq->size);
	int r;

	if (!vq->enabled || !desc || !avail || !used)
		return err_set(EIO, "%s: queue %u is not set up", h->what, vq->index);
	addr.desc_user_addr = (uintptr_t)desc;
	addr.avail_user_addr = (uintptr_t)avail;
	addr.used_user_addr = (uintptr_t)used;
	if ((r = virtio_vhost_ioctl(h, VIRTIO_VHOST_SET_VRING_NUM, &num, "VHOST_SET_VRING_NUM")) ||
	    (r = virtio_vhost_ioctl(h, VIRTIO_VHOST_SET_VRING_BASE, &base, "VHOST_SET_VRING_BASE")) ||
	    (r = virtio_vhost_ioctl(h, VIRTIO_VHOST_SET_VRING_ADDR, &addr, "VHOST_SET_VRING_ADDR")) ||
	    (r = virtio_vhost_ioctl(h, VIRTIO_VHOST_SET_VRING_KICK, &kick, "VHOST_SET_VRING_KICK")) ||
	    (r = virtio_vhost_ioctl(h, VIRTIO_VHOST_SET_VRING_CALL, &call, "VHOST_SET_VRING_CALL")))
		return r;
	return 0;
}

int virtio_vhost_start(struct virtio_vhost *h)
{
	uint64_t features = h->dev->driver_features & h->features & ~(1ull << VIRTIO_F_ACCESS_PLATFORM);
	int r;

	if ((r = virtio_vhost_ioctl(h, VIRTIO_VHOST_SET_FEATURES, &features, "VHOST_SET_FEATURES")) ||
	    (r = set_mem_table(h)))
		return r;
	for (unsigned i = 0; i < h->n; i++) {
		if ((r = setup_ring(h, i)))
			return r;
		ioeventfd(h, i, true);
	}
	h->running = true;
	return 0;
}

void virtio_vhost_stop(struct virtio_vhost *h)
{
	if (!h->dev)
		return;
	for (unsigned i = 0; i < h->n; i++)
		ioeventfd(h, i, false);
	h->running = false;
}

void virtio_vhost_kick(struct virtio_vhost *h, unsigned queue)
{
	if (h->dev && h->running && queue >= h->first && queue < h->first + h->n)
		virtio_eventfd_signal(h->dev->vq[queue].kick_fd);
}
