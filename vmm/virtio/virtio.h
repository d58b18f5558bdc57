/* virtio.h - the virtio-pci devices of cvmm (virtio 1.2, modern transport
 * only). This is what the VM core (vmm/) and `cvmm run` call; everything
 * else in vmm/virtio/ is internal (virtio_dev.h).
 *
 * Each constructor builds one device, registers it on the VM's PCI bus
 * (pci_register, vm.h) and hooks its host-side file descriptors into the
 * VM's event loop. Call them after the VM core has set up guest memory,
 * the event loop and the PCI host bridge, and before the first KVM_RUN.
 * They return 0 or a negative errno with the message set by err_set().
 *
 * Every device offers VIRTIO_F_VERSION_1 and VIRTIO_F_ACCESS_PLATFORM (a
 * confidential guest then bounces all device DMA through swiotlb). */
#ifndef CVMM_VMM_VIRTIO_H
#define CVMM_VMM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* virtio-console port 0 (the guest's hvc0): guest input is read from in_fd
 * (may be -1 for none), guest output is written to out_fd. cvmm keeps
 * ownership of both fds (they are not closed). */
int virtio_console_create(struct vm *vm, int in_fd, int out_fd);

/* virtio-blk on a raw image, one I/O thread with io_uring per queue
 * (`--disk PATH[,ro][,direct=on][,queues=N]`, docs/virtio.md). read_only
 * offers VIRTIO_BLK_F_RO and fails writes with VIRTIO_BLK_S_IOERR; direct
 * opens the image O_DIRECT; queues (1..4, 0 = 1) offers VIRTIO_BLK_F_MQ. */
struct virtio_blk_opts {
	const char *path;
	bool read_only;
	bool direct;
	unsigned queues;
};
int virtio_blk_create_opts(struct vm *vm, const struct virtio_blk_opts *o);
int virtio_blk_create(struct vm *vm, const char *path, bool read_only);

/* virtio-rng fed by getrandom(2). */
int virtio_rng_create(struct vm *vm);

/* virtio-net on an existing or new tap interface (/dev/net/tun,
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR); mac is offered with VIRTIO_NET_F_MAC.
 * vhost: the kernel data path (/dev/vhost-net) when it can be opened (AUTO),
 * always (ON: an error without it) or never (OFF: frames pass through cvmm). */
enum virtio_net_vhost { VIRTIO_NET_VHOST_AUTO, VIRTIO_NET_VHOST_ON, VIRTIO_NET_VHOST_OFF };
int virtio_net_create(struct vm *vm, const char *tap_name, const uint8_t mac[6], enum virtio_net_vhost vhost);

/* virtio-vsock backed by the vhost-vsock kernel driver (/dev/vhost-vsock)
 * with the given guest CID (>= 3). */
int virtio_vsock_create(struct vm *vm, uint64_t guest_cid);

/* The device manifest: a flattened device tree (built with libfdt) listing
 * every device created above for this VM, in PCI slot order: type, slot,
 * features offered, queues, backing (path + read-only, tap, cid). The bytes
 * are deterministic for the same device set, so their hash can go into the
 * launch (host data / MRCONFIGID). *dtb is malloc'ed; free() it. Call after
 * all devices are created (`cvmm run --print-manifest FILE` writes it with
 * file_write()). Format: docs/virtio.md. */
int virtio_manifest_dtb(struct vm *vm, void **dtb, size_t *len);

/* vm.counters of the API: {"virtio-blk@2": {"requests": N, "out_bytes": N,
 * "in_bytes": N}, ...} per device (PCI slot in the name, as in the
 * manifest); queues a vhost backend runs (vsock) are served by the kernel
 * and count nothing here. New reference, NULL when out of memory. */
struct json_t;
struct json_t *virtio_counters(struct vm *vm);

/* Tear down every virtio device of this VM (closes their fds, removes them
 * from the event loop). Call before the VM's memory and event loop go away. */
void virtio_destroy_all(struct vm *vm);

#endif
