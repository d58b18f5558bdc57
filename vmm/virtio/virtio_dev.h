/* virtio_dev.h - internal to vmm/virtio/: the shared virtio core (device
 * state, split virtqueues, the hostile-input walker) that every device and
 * the virtio-pci transport build on. Modelled on kvmtool's virtio/core.c:
 * each device is a table of operations plus one registration call.
 *
 * Threading: bar_read/bar_write arrive on vCPU threads and host fd events on
 * the event-loop thread; every entry point takes dev->lock, so device code
 * runs single-threaded per device. */
#ifndef CVMM_VMM_VIRTIO_DEV_H
#define CVMM_VMM_VIRTIO_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/vm.h"

/* ---- virtio 1.2 constants ---- */
/* §2.1 device status field */
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01
#define VIRTIO_STATUS_DRIVER             0x02
#define VIRTIO_STATUS_DRIVER_OK          0x04
#define VIRTIO_STATUS_FEATURES_OK        0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED             0x80
/* §6 reserved feature bits */
#define VIRTIO_F_INDIRECT_DESC   28
#define VIRTIO_F_EVENT_IDX       29 /* VIRTIO_RING_F_EVENT_IDX */
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_ACCESS_PLATFORM 33
/* §5 device ids */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4
#define VIRTIO_ID_VSOCK   19
/* §2.7.5 split virtqueue descriptor flags */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1 /* §2.7.7 (without EVENT_IDX) */
#define VIRTQ_SIZE_MAX        32768 /* §2.7 */
#define VIRTIO_MSI_NO_VECTOR  0xffff

#define VIRTIO_MAX_QUEUES 4
#define VIRTIO_QUEUE_MAX  256 /* queue size offered by every device */

#define virtio_container(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define VIRTIO_CFG_MAX    64  /* bytes of device-specific config space */

/* ---- virtqueue (split ring, §2.7) ---- */
struct virtio_dev;

struct virtqueue {
	struct virtio_dev *dev;
	unsigned index;
	uint16_t max_size;   /* offered by the device */
	uint16_t size;       /* queue_size as the driver set it */
	bool enabled;        /* queue_enable = 1 and the rings validated */
	uint16_t msix_vector;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail; /* next avail ring slot the device consumes */
	uint16_t used_idx;   /* device's copy of used->idx */
	int kick_fd, call_fd; /* eventfds when a vhost backend runs the queue (else -1) */
	bool rekick;         /* vq_serve stopped at its batch bound: notify again */
	/* §2.7.10 EVENT_IDX: used idx at the last interrupt decision */
	uint16_t signalled_used;
	bool signalled_valid;
};

/* One descriptor chain popped from the avail ring, as host iovecs into
 * guest RAM: out[] are device-readable, in[] device-writable, in ring order.
 * Indirect tables are flattened; the walker rejects anything hostile. */
#define VQ_CHAIN_MAX 256 /* more descriptors than this mark the device broken */
struct vq_chain {
	uint16_t head;
	unsigned n_out, n_in;
	uint64_t out_len, in_len; /* total bytes (each <= UINT32_MAX) */
	struct iovec out[VQ_CHAIN_MAX];
	struct iovec in[VQ_CHAIN_MAX];
};

/* Pop the next available chain. Returns 1 with *c filled, 0 when the ring is
 * empty, or -EIO when the ring is hostile: then the device is already marked
 * broken (DEVICE_NEEDS_RESET + config interrupt) and err_msg() says why. */
int vq_pop(struct virtqueue *vq, struct vq_chain *c);
/* Put a chain on the used ring with `written` bytes written to its in[]
 * buffers. Returns 0 or -EIO (device marked broken). Does not interrupt. */
int vq_push(struct virtqueue *vq, const struct vq_chain *c, uint32_t written);
/* Interrupt the driver for this queue (MSI-X vector or INTx + ISR bit 0),
 * unless the driver asked not to be: with VIRTIO_F_EVENT_IDX only when the
 * used idx moved past the driver's used_event since the last interrupt
 * (§2.7.10), without it not while avail->flags has NO_INTERRUPT. Queues a
 * vhost backend runs (kick_fd and call_fd set) are always interrupted: the
 * kernel made that decision. With EVENT_IDX, vq_pop publishes avail_event
 * (its next slot) whenever it finds the ring empty, and checks once more. */
void vq_interrupt(struct virtqueue *vq);
/* The §2.7.10 test: did the used idx step over event going old -> new? */
static inline bool vq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}
/* Serve the available chains: handle() carries out the request and returns
 * the bytes it wrote to the chain's in[] buffers; each chain goes on the
 * used ring, then the driver is interrupted once if any did. Stops at a
 * hostile ring (the device is then marked broken, nothing more is used).
 * At most queue-size chains per call: a driver refilling the ring from
 * another vCPU cannot keep the caller (and dev->lock) in the loop. If more
 * are waiting, the queue is marked for a re-kick and the device's re-kick
 * eventfd is signalled: the event loop calls ops->notify again for it. */
void vq_serve(struct virtqueue *vq, uint32_t (*handle)(void *arg, struct vq_chain *c), void *arg);
/* The device's re-kick eventfd on the event loop (virtio_dev_register) and
 * its teardown (virtio_pci_free). */
int virtio_rekick_open(struct virtio_dev *d);
void virtio_rekick_close(struct virtio_dev *d);
/* Add one to an eventfd (a device's wake-up, a vhost kick); fd < 0 is
 * ignored, and so is the write's failure: the counter cannot overflow in
 * practice and a non-blocking eventfd needs no retry. */
void virtio_eventfd_signal(int fd);
/* A device's wake-up eventfd, watched by the event loop: cb(opaque) runs on
 * the loop thread after virtio_eventfd_signal(). Returns the fd, or a
 * negative errno with the error set (naming the device). */
int virtio_wake_open(struct virtio_dev *d, ev_cb cb, void *opaque);
/* In the callback: consume the wake-ups; false when the read failed (other
 * than EAGAIN) and there is nothing to do. */
bool virtio_wake_clear(int fd);
/* Stop watching and close (fd < 0: nothing). */
void virtio_wake_close(struct virtio_dev *d, int fd);
/* Validate the rings of a queue the driver just enabled (size a power of
 * two <= max, ring alignment, all three rings inside guest RAM). 0 or -EIO. */
int vq_validate(struct virtqueue *vq);

/* Gather/scatter over iovecs (bounded by their total length); return the
 * bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);

/* ---- device ---- */
struct virtio_dev_ops {
	const char *name;         /* "virtio-blk", ... (manifest "type") */
	uint16_t device_id;       /* §5 */
	uint32_t pci_class;       /* class << 16 | subclass << 8 | prog-if */
	/* the driver wrote config space (already stored in dev->cfg); may be NULL */
	void (*cfg_write)(struct virtio_dev *d, unsigned off, unsigned len);
	/* the driver notified queue q (device is DRIVER_OK and not broken) */
	void (*notify)(struct virtio_dev *d, struct virtqueue *vq);
	/* status went to DRIVER_OK (start backends); may be NULL */
	int (*start)(struct virtio_dev *d);
	/* device reset by the driver (status 0) or on teardown; may be NULL */
	void (*reset)(struct virtio_dev *d);
	/* free the device's private state and close its fds */
	void (*destroy)(struct virtio_dev *d);
	/* add device-specific properties (backing) to the manifest node */
	int (*manifest)(struct virtio_dev *d, void *fdt);
};

/* How the core reaches the transport (virtio-pci); function pointers keep
 * the core free of PCI so it can be tested and fuzzed on its own. */
struct virtio_transport_ops {
	void (*queue_irq)(struct virtio_dev *d, struct virtqueue *vq);
	void (*config_irq)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *transport;
	void *transport_priv;
	struct vm *vm;
	struct guest_mem *mem;
	pthread_mutex_t lock;

	uint64_t features;        /* offered */
	uint64_t driver_features; /* accepted by the driver */
	uint8_t status;
	bool broken;              /* hostile ring seen: stop until reset */
	char broken_reason[160];
	uint8_t config_generation;
	uint16_t config_msix_vector;
	uint8_t isr;              /* ISR status: bit 0 queue, bit 1 config (§4.1.4.5) */

	unsigned num_queues;
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
	uint8_t cfg[VIRTIO_CFG_MAX]; /* device-specific config, little endian */
	unsigned cfg_len;
	uint8_t cfg_wmask[VIRTIO_CFG_MAX]; /* bytes the driver may write */

	/* device-error log rate limit (core.c): a token bucket of lines */
	unsigned log_tokens;
	uint64_t log_refill_ns;   /* clock of the last refill */
	uint64_t log_suppressed;  /* lines not written since the last one */
	int rekick_fd;            /* eventfd: a queue has rekick set (-1: none) */

	/* vm.counters (counters.c): chains completed, bytes the guest gave the
	 * device (out[]) and the device wrote back (in[]); atomic adds */
	uint64_t stat_requests, stat_out_bytes, stat_in_bytes;
	void *priv;               /* the device's own state */
	struct virtio_dev *next;  /* registry of all devices (manifest order) */
};

/* Fill the common part of a device: ops, queues (num, max size each),
 * offered features (VERSION_1 | ACCESS_PLATFORM | INDIRECT_DESC | EVENT_IDX
 * are added; a vhost-backed device drops what its backend lacks). */
void virtio_dev_init(struct virtio_dev *d, struct vm *vm, struct guest_mem *mem,
		     const struct virtio_dev_ops *ops, unsigned num_queues,
		     uint16_t queue_max, uint64_t device_features);
/* Register a filled device: add to the VM's PCI bus (virtio-pci) and the
 * manifest registry. On failure the caller still owns d. */
int virtio_dev_register(struct virtio_dev *d);
/* Mark a device broken (hostile input): DEVICE_NEEDS_RESET, config interrupt,
 * one log line; later notifications are ignored until the driver resets. */
void virtio_dev_set_broken(struct virtio_dev *d, const char *why);
/* Where virtio_dev_set_broken() logs (stderr; -1 = silent, for the fuzzer).
 * A guest can break and reset a device in a loop, so the lines are rate
 * limited per device: VIRTIO_LOG_BURST lines, then one more per
 * VIRTIO_LOG_INTERVAL_NS, each preceded by "N more device errors
 * suppressed" when lines were dropped. virtio_log_clock (monotonic
 * nanoseconds) is replaceable for tests. */
extern int virtio_log_fd;
#define VIRTIO_LOG_BURST       5
#define VIRTIO_LOG_INTERVAL_NS (60ull * 1000000000ull)
extern uint64_t (*virtio_log_clock)(void);
/* Driver wrote status 0: reset queues, features and device state. */
void virtio_dev_reset(struct virtio_dev *d);
/* Driver features have VERSION_1 and nothing that was not offered. */
bool virtio_features_ok(const struct virtio_dev *d);
bool virtio_dev_running(const struct virtio_dev *d);

/* Registry (core.c): every registered device, for the manifest. */
void virtio_registry_add(struct virtio_dev *d);
void virtio_registry_remove(struct virtio_dev *d);
struct virtio_dev *virtio_registry_first(void);

/* ---- virtio-pci transport (pci.c) ---- */
/* Register d as a virtio-pci modern device on vm's bus. */
int virtio_pci_register(struct virtio_dev *d);
/* The PCI function of a registered device (slot for the manifest). */
struct pci_dev *virtio_pci_dev(struct virtio_dev *d);
void virtio_pci_free(struct virtio_dev *d);

/* BAR 0 layout (virtio structures, §4.1.4) and BAR 1 (MSI-X table + PBA) */
#define VPCI_BAR_VIRTIO       0
#define VPCI_BAR_MSIX         1
#define VPCI_COMMON_OFF       0x0000
#define VPCI_COMMON_LEN       0x0038 /* through queue_device (§4.1.4.3) */
#define VPCI_ISR_OFF          0x1000
#define VPCI_ISR_LEN          0x0004
#define VPCI_DEVICE_OFF       0x2000
#define VPCI_NOTIFY_OFF       0x3000
#define VPCI_NOTIFY_MULT      4
#define VPCI_BAR_VIRTIO_SIZE  0x4000
#define VPCI_MSIX_TABLE_OFF   0x0000
#define VPCI_MSIX_PBA_OFF     0x0800
#define VPCI_BAR_MSIX_SIZE    0x1000
#define VPCI_MSIX_VECTORS     (VIRTIO_MAX_QUEUES + 1)

/* ---- devices without their host backend, for tests ---- */
/* virtio-blk: wait until every queue's thread has served the notifications
 * so far and nothing is in flight (the requests are on the used ring). */
void virtio_blk_wait_idle(struct virtio_dev *d);
int virtio_net_create_fd(struct vm *vm, int tap_fd, const uint8_t mac[6], const char *tap_name);
int virtio_net_create_vhost_fd(struct vm *vm, int tap_fd, int vhost_fd, const uint8_t mac[6],
			       const char *tap_name);
int virtio_vsock_create_fd(struct vm *vm, int vhost_fd, uint64_t guest_cid);

#endif
