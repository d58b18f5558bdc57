/* vhost.h - internal to vmm/virtio/: the vhost ioctl interface (Linux
 * drivers/vhost, uAPI <linux/vhost.h> and <linux/vhost_types.h>), defined
 * here with our own names; tests/test_virtio_uapi.c checks every size,
 * offset and ioctl number against a copy of the kernel headers. */
#ifndef CVMM_VMM_VIRTIO_VHOST_H
#define CVMM_VMM_VIRTIO_VHOST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

struct virtio_vhost_vring_state {
	uint32_t index;
	uint32_t num;
};

struct virtio_vhost_vring_file {
	uint32_t index;
	int32_t fd; /* -1 unbinds */
};

struct virtio_vhost_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

struct virtio_vhost_memory_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t flags_padding;
};

/* struct vhost_memory is a header followed by nregions regions */
struct virtio_vhost_memory {
	uint32_t nregions;
	uint32_t padding;
	struct virtio_vhost_memory_region regions[];
};

#define VIRTIO_VHOST_MAGIC 0xAF
#define VIRTIO_VHOST_GET_FEATURES      _IOR(VIRTIO_VHOST_MAGIC, 0x00, uint64_t)
#define VIRTIO_VHOST_SET_FEATURES      _IOW(VIRTIO_VHOST_MAGIC, 0x00, uint64_t)
#define VIRTIO_VHOST_SET_OWNER         _IO(VIRTIO_VHOST_MAGIC, 0x01)
#define VIRTIO_VHOST_RESET_OWNER       _IO(VIRTIO_VHOST_MAGIC, 0x02)
#define VIRTIO_VHOST_SET_MEM_TABLE     _IOW(VIRTIO_VHOST_MAGIC, 0x03, struct virtio_vhost_memory)
#define VIRTIO_VHOST_SET_VRING_NUM     _IOW(VIRTIO_VHOST_MAGIC, 0x10, struct virtio_vhost_vring_state)
#define VIRTIO_VHOST_SET_VRING_ADDR    _IOW(VIRTIO_VHOST_MAGIC, 0x11, struct virtio_vhost_vring_addr)
#define VIRTIO_VHOST_SET_VRING_BASE    _IOW(VIRTIO_VHOST_MAGIC, 0x12, struct virtio_vhost_vring_state)
#define VIRTIO_VHOST_GET_VRING_BASE    _IOWR(VIRTIO_VHOST_MAGIC, 0x12, struct virtio_vhost_vring_state)
#define VIRTIO_VHOST_SET_VRING_KICK    _IOW(VIRTIO_VHOST_MAGIC, 0x20, struct virtio_vhost_vring_file)
#define VIRTIO_VHOST_SET_VRING_CALL    _IOW(VIRTIO_VHOST_MAGIC, 0x21, struct virtio_vhost_vring_file)
#define VIRTIO_VHOST_VSOCK_SET_GUEST_CID _IOW(VIRTIO_VHOST_MAGIC, 0x60, uint64_t)
#define VIRTIO_VHOST_VSOCK_SET_RUNNING _IOW(VIRTIO_VHOST_MAGIC, 0x61, int)
#define VIRTIO_VHOST_NET_SET_BACKEND   _IOW(VIRTIO_VHOST_MAGIC, 0x30, struct virtio_vhost_vring_file)

/* ---- a vhost kernel backend running some of a device's queues (vhost.c) ----
 * Device queues first .. first+n-1 are the backend's rings 0 .. n-1 (vhost-net:
 * one backend per receive/transmit pair; vhost-vsock: rx and tx). Each such
 * queue gets a kick eventfd (KVM_IOEVENTFD on its notify address while
 * running) and a call eventfd whose signals the event loop turns into the
 * queue's interrupt. Runs with dev->lock held except open/close. */
#define VIRTIO_VHOST_MAX_RINGS 2 /* vhost-net and vhost-vsock run two rings each */
struct virtio_dev;
struct virtio_vhost {
	struct virtio_dev *dev;
	const char *what;          /* "virtio-net: /dev/vhost-net", for messages */
	int fd;                    /* -1: none */
	unsigned first, n;
	uint64_t features;         /* VHOST_GET_FEATURES */
	bool running;              /* rings handed over (start .. stop) */
	uint64_t ioevent_addr[VIRTIO_VHOST_MAX_RINGS]; /* per ring; 0 = none registered */
};
/* Take ownership of fd (an open /dev/vhost-*): SET_OWNER, GET_FEATURES, the
 * queues' eventfds and call watches. On failure everything is closed. */
int virtio_vhost_open(struct virtio_vhost *h, struct virtio_dev *d, int fd, const char *what,
		      unsigned first, unsigned n);
/* The device went DRIVER_OK: SET_FEATURES (the driver's features the
 * backend knows, without ACCESS_PLATFORM: vhost would switch to IOTLB
 * mode), SET_MEM_TABLE (guest RAM), each ring's num/base/addr/kick/call,
 * ioeventfds. The device attaches its backend (SET_RUNNING, NET_SET_BACKEND)
 * after this. */
int virtio_vhost_start(struct virtio_vhost *h);
/* Remove the ioeventfds (the device has detached its backend first). */
void virtio_vhost_stop(struct virtio_vhost *h);
/* The driver notified a vhost queue through the BAR (no ioeventfd at that
 * address, e.g. the BAR moved): forward it to the kick eventfd. */
void virtio_vhost_kick(struct virtio_vhost *h, unsigned queue);
/* An ioctl on the backend; the error names what and req_name. */
int virtio_vhost_ioctl(struct virtio_vhost *h, unsigned long req, void *arg, const char *req_name);
/* Stop watching, close the eventfds and the backend (safe on a failed open). */
void virtio_vhost_close(struct virtio_vhost *h);

#endif
