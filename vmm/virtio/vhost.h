/* vhost.h - internal to vmm/virtio/: the vhost ioctl interface (Linux
 * drivers/vhost, uAPI <linux/vhost.h> and <linux/vhost_types.h>), defined
 * here with our own names; tests/test_virtio_uapi.c checks every size,
 * offset and ioctl number against a copy of the kernel headers. */
#ifndef CVMM_VMM_VIRTIO_VHOST_H
#define CVMM_VMM_VIRTIO_VHOST_H

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

#endif
