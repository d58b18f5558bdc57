/* vsock.c - virtio-vsock (virtio 1.2 §5.10) backed by the vhost-vsock kernel
 * driver. Queues 0 (rx) and 1 (tx) run in the kernel: at DRIVER_OK the
 * rings are handed over with VHOST_SET_VRING_* after VHOST_SET_MEM_TABLE,
 * guest notifications reach vhost through KVM_IOEVENTFD on the notify
 * address (or, if the BAR moved, through this file writing the kick
 * eventfd), and vhost's call eventfd is turned into the device's interrupt
 * on the event loop. Queue 2 (event) stays here; no events are sent.
 *
 * The kernel validates the rings it runs; the acked features are handed
 * over without VIRTIO_F_ACCESS_PLATFORM, which would switch vhost to IOTLB
 * mode (addresses are guest-physical and mapped by the memory table). */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/kvm_uapi.h"
#include "vmm/virtio/vhost.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

#define VIRTIO_VSOCK_F_SEQPACKET 1
#define VSOCK_VHOST_QUEUES 2 /* rx, tx */
#define VSOCK_QUEUES 3

struct vsock {
	struct virtio_dev dev;
	int vhost_fd;
	uint64_t cid;
	uint64_t vhost_features;
	bool running;
	uint64_t ioevent_addr[VSOCK_VHOST_QUEUES]; /* 0 = none registered */
};

static struct vsock *vs_of(struct virtio_dev *d) { return virtio_container(d, struct vsock, dev); }

static int vhost_ioctl(struct vsock *v, unsigned long req, void *arg, const char *what)
{
	if (ioctl(v->vhost_fd, req, arg) < 0)
		return err_set(errno, "virtio-vsock: /dev/vhost-vsock: %s: %s", what, strerror(errno));
	return 0;
}

static void ioeventfd(struct vsock *v, unsigned q, bool on)
{
	struct pci_dev *p = virtio_pci_dev(&v->dev);
	struct kvm_ioeventfd io = { .len = 2, .fd = v->dev.vq[q].kick_fd };

	if (on) {
		if (!p || !p->bar_addr[VPCI_BAR_VIRTIO])
			return;
		io.addr = p->bar_addr[VPCI_BAR_VIRTIO] + VPCI_NOTIFY_OFF + (uint64_t)VPCI_NOTIFY_MULT * q;
		/* without it notifications still arrive through vsock_notify */
		if (ioctl(vm_fd(v->dev.vm), KVM_IOEVENTFD, &io) == 0)
			v->ioevent_addr[q] = io.addr;
	} else if (v->ioevent_addr[q]) {
		io.addr = v->ioevent_addr[q];
		io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
		ioctl(vm_fd(v->dev.vm), KVM_IOEVENTFD, &io);
		v->ioevent_addr[q] = 0;
	}
}

static int set_mem_table(struct vsock *v)
{
	const struct guest_mem *m = v->dev.mem;
	struct virtio_vhost_memory *mt = calloc(1, sizeof(*mt) + 2 * sizeof(mt->regions[0]));
	int r;

	if (!mt)
		return err_set(ENOMEM, "virtio-vsock: out of memory");
	/* vm.h: RAM is [0, low_size) and [4 GiB, 4 GiB + size - low_size) */
	mt->regions[0] = (struct virtio_vhost_memory_region){ 0, m->low_size, (uintptr_t)m->host, 0 };
	mt->nregions = 1;
	if (m->size > m->low_size)
		mt->regions[mt->nregions++] = (struct virtio_vhost_memory_region){
			1ull << 32, m->size - m->low_size, (uintptr_t)(m->host + m->low_size), 0 };
	r = vhost_ioctl(v, VIRTIO_VHOST_SET_MEM_TABLE, mt, "VHOST_SET_MEM_TABLE");
	free(mt);
	return r;
}

static int setup_vring(struct vsock *v, unsigned q)
{
	struct virtqueue *vq = &v->dev.vq[q];
	struct virtio_vhost_vring_state num = { q, vq->size }, base = { q, 0 };
	struct virtio_vhost_vring_file kick = { q, vq->kick_fd }, call = { q, vq->call_fd };
	struct virtio_vhost_vring_addr addr = { .index = q };
	void *desc = gm_ptr(v->dev.mem, vq->desc_gpa, 16ull * vq->size);
	void *avail = gm_ptr(v->dev.mem, vq->avail_gpa, 6 + 2ull * vq->size);
	void *used = gm_ptr(v->dev.mem, vq->used_gpa, 6 + 8ull * vq->size);
	int r;

	if (!vq->enabled || !desc || !avail || !used)
		return err_set(EIO, "virtio-vsock: queue %u is not set up", q);
	addr.desc_user_addr = (uintptr_t)desc;
	addr.avail_user_addr = (uintptr_t)avail;
	addr.used_user_addr = (uintptr_t)used;
	if ((r = vhost_ioctl(v, VIRTIO_VHOST_SET_VRING_NUM, &num, "VHOST_SET_VRING_NUM")) ||
	    (r = vhost_ioctl(v, VIRTIO_VHOST_SET_VRING_BASE, &base, "VHOST_SET_VRING_BASE")) ||
	    (r = vhost_ioctl(v, VIRTIO_VHOST_SET_VRING_ADDR, &addr, "VHOST_SET_VRING_ADDR")) ||
	    (r = vhost_ioctl(v, VIRTIO_VHOST_SET_VRING_KICK, &kick, "VHOST_SET_VRING_KICK")) ||
	    (r = vhost_ioctl(v, VIRTIO_VHOST_SET_VRING_CALL, &call, "VHOST_SET_VRING_CALL")))
		return r;
	return 0;
}

static int vsock_start(struct virtio_dev *d)
{
	struct vsock *v = vs_of(d);
	uint64_t features = d->driver_features & v->vhost_features &
			    ~(1ull << VIRTIO_F_ACCESS_PLATFORM);
	int running = 1, r;

	if (v->vhost_fd < 0)
		return 0; /* no backend (tests) */
	if ((r = vhost_ioctl(v, VIRTIO_VHOST_SET_FEATURES, &features, "VHOST_SET_FEATURES")) ||
	    (r = set_mem_table(v)))
		return r;
	for (unsigned q = 0; q < VSOCK_VHOST_QUEUES; q++) {
		if ((r = setup_vring(v, q)))
			return r;
		ioeventfd(v, q, true);
	}
	if ((r = vhost_ioctl(v, VIRTIO_VHOST_VSOCK_SET_RUNNING, &running, "VHOST_VSOCK_SET_RUNNING")))
		return r;
	v->running = true;
	return 0;
}

static void vsock_reset(struct virtio_dev *d)
{
	struct vsock *v = vs_of(d);
	int running = 0;

	if (v->vhost_fd < 0)
		return;
	for (unsigned q = 0; q < VSOCK_VHOST_QUEUES; q++)
		ioeventfd(v, q, false);
	if (v->running)
		ioctl(v->vhost_fd, VIRTIO_VHOST_VSOCK_SET_RUNNING, &running);
	v->running = false;
}

static void vsock_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	/* the BAR moved after DRIVER_OK (no ioeventfd there): forward the kick */
	if (vq->index < VSOCK_VHOST_QUEUES && vs_of(d)->running)
		virtio_eventfd_signal(vq->kick_fd);
}

/* vhost used buffers on a queue: interrupt the guest for it */
static void vsock_call(void *opaque, uint32_t events)
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

static void vsock_destroy(struct virtio_dev *d)
{
	struct vsock *v = vs_of(d);

	for (unsigned q = 0; q < VSOCK_VHOST_QUEUES; q++) {
		struct virtqueue *vq = &d->vq[q];
		if (vq->call_fd >= 0) {
			ev_del(vm_evloop(d->vm), vq->call_fd);
			close(vq->call_fd);
		}
		if (vq->kick_fd >= 0)
			close(vq->kick_fd);
	}
	if (v->vhost_fd >= 0)
		close(v->vhost_fd);
	free(v);
}

static int vsock_manifest(struct virtio_dev *d, void *fdt)
{
	int r = fdt_property_u64(fdt, "guest-cid", vs_of(d)->cid);

	if (!r)
		r = fdt_property_string(fdt, "backend", vs_of(d)->vhost_fd >= 0 ? "vhost-vsock" : "none");
	return r;
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.pci_class = 0x088000, /* base system peripheral, other */
	.notify = vsock_notify,
	.start = vsock_start,
	.reset = vsock_reset,
	.destroy = vsock_destroy,
	.manifest = vsock_manifest,
};

/* Takes ownership of vhost_fd (-1: a device without backend, for tests). */
int virtio_vsock_create_fd(struct vm *vm, int vhost_fd, uint64_t guest_cid)
{
	struct vsock *v = calloc(1, sizeof(*v));
	int r;

	if (!v) {
		if (vhost_fd >= 0)
			close(vhost_fd);
		return err_set(ENOMEM, "virtio-vsock: out of memory");
	}
	v->vhost_fd = vhost_fd;
	v->cid = guest_cid;
	virtio_dev_init(&v->dev, vm, vm_mem(vm), &vsock_ops, VSOCK_QUEUES, VIRTIO_QUEUE_MAX, 0);
	/* §5.10.4 struct virtio_vsock_config: le64 guest_cid */
	put_le64(v->dev.cfg, guest_cid);
	v->dev.cfg_len = 8;
	if (guest_cid < 3 || guest_cid > UINT32_MAX) {
		/* §5.10.4: CIDs 0-2 are reserved; the kernel uses 32 bits */
		r = err_set(EINVAL, "virtio-vsock: guest CID %llu is reserved or too large (3 .. 2^32-1)",
			    (unsigned long long)guest_cid);
		goto fail;
	}
	if (vhost_fd >= 0) {
		if ((r = vhost_ioctl(v, VIRTIO_VHOST_SET_OWNER, NULL, "VHOST_SET_OWNER")) ||
		    (r = vhost_ioctl(v, VIRTIO_VHOST_GET_FEATURES, &v->vhost_features, "VHOST_GET_FEATURES")) ||
		    (r = vhost_ioctl(v, VIRTIO_VHOST_VSOCK_SET_GUEST_CID, &guest_cid,
				     "VHOST_VSOCK_SET_GUEST_CID (CID in use?)")))
			goto fail;
		if (!(v->vhost_features & 1ull << VIRTIO_F_VERSION_1)) {
			r = err_set(ENOTSUP, "virtio-vsock: vhost-vsock does not support VIRTIO_F_VERSION_1");
			goto fail;
		}
		v->dev.features |= v->vhost_features & 1ull << VIRTIO_VSOCK_F_SEQPACKET;
		if (!(v->vhost_features & 1ull << VIRTIO_F_INDIRECT_DESC))
			v->dev.features &= ~(1ull << VIRTIO_F_INDIRECT_DESC);
		for (unsigned q = 0; q < VSOCK_VHOST_QUEUES; q++) {
			struct virtqueue *vq = &v->dev.vq[q];
			vq->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			vq->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (vq->kick_fd < 0 || vq->call_fd < 0) {
				r = err_set(errno, "virtio-vsock: eventfd: %s", strerror(errno));
				goto fail;
			}
			r = ev_add(vm_evloop(vm), vq->call_fd, EPOLLIN, vsock_call, vq);
			if (r < 0) {
				close(vq->call_fd);
				vq->call_fd = -1;
				r = err_set(-r, "virtio-vsock: event loop: %s", strerror(-r));
				goto fail;
			}
		}
	}
	r = virtio_dev_register(&v->dev);
	if (r < 0)
		goto fail;
	return 0;
fail:
	vsock_destroy(&v->dev);
	return r;
}

int virtio_vsock_create(struct vm *vm, uint64_t guest_cid)
{
	int fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return err_set(errno, "virtio-vsock: /dev/vhost-vsock: %s (is the vhost_vsock module loaded?)",
			       strerror(errno));
	return virtio_vsock_create_fd(vm, fd, guest_cid);
}
