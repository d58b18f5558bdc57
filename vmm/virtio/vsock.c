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
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/virtio/vhost.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

#define VIRTIO_VSOCK_F_SEQPACKET 1
#define VSOCK_VHOST_QUEUES 2 /* rx, tx */
#define VSOCK_QUEUES 3

struct vsock {
	struct virtio_dev dev;
	struct virtio_vhost vhost; /* fd -1: no backend (tests) */
	uint64_t cid;
};

static struct vsock *vs_of(struct virtio_dev *d) { return virtio_container(d, struct vsock, dev); }

static int vsock_start(struct virtio_dev *d)
{
	struct vsock *v = vs_of(d);
	int running = 1, r;

	if (v->vhost.fd < 0)
		return 0; /* no backend (tests) */
	if ((r = virtio_vhost_start(&v->vhost)) ||
	    (r = virtio_vhost_ioctl(&v->vhost, VIRTIO_VHOST_VSOCK_SET_RUNNING, &running,
				    "VHOST_VSOCK_SET_RUNNING")))
		return r;
	return 0;
}

static void vsock_reset(struct virtio_dev *d)
{
	struct vsock *v = vs_of(d);
	int running = 0;

	if (v->vhost.fd < 0)
		return;
	if (v->vhost.running)
		ioctl(v->vhost.fd, VIRTIO_VHOST_VSOCK_SET_RUNNING, &running);
	virtio_vhost_stop(&v->vhost);
}

static void vsock_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	/* the BAR moved after DRIVER_OK (no ioeventfd there): forward the kick */
	virtio_vhost_kick(&vs_of(d)->vhost, vq->index);
}

static void vsock_destroy(struct virtio_dev *d)
{
	struct vsock *v = vs_of(d);

	if (v->vhost.dev)
		virtio_vhost_close(&v->vhost);
	else if (v->vhost.fd >= 0)
		close(v->vhost.fd);
	free(v);
}

static int vsock_manifest(struct virtio_dev *d, void *fdt)
{
	int r = fdt_property_u64(fdt, "guest-cid", vs_of(d)->cid);

	if (!r)
		r = fdt_property_string(fdt, "backend", vs_of(d)->vhost.fd >= 0 ? "vhost-vsock" : "none");
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
	v->vhost.fd = vhost_fd;
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
		r = virtio_vhost_open(&v->vhost, &v->dev, vhost_fd, "virtio-vsock: /dev/vhost-vsock", 0,
				      VSOCK_VHOST_QUEUES);
		if (r)
			goto fail; /* it closed the backend (fd -1) */
		if ((r = virtio_vhost_ioctl(&v->vhost, VIRTIO_VHOST_VSOCK_SET_GUEST_CID, &guest_cid,
					    "VHOST_VSOCK_SET_GUEST_CID (CID in use?)")))
			goto fail;
		v->dev.features |= v->vhost.features & 1ull << VIRTIO_VSOCK_F_SEQPACKET;
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
