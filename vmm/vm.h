/* vm.h - interfaces inside vmm/ between the VM core (KVM, memory, event loop,
 * PCI host bridge) and the devices (vmm/virtio/, serial). Not a public
 * header: other top-level directories use vmm/vmm.h only. */
#ifndef CVMM_VMM_VM_H
#define CVMM_VMM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct pci_bus;

/* ---------------- guest memory ----------------
 * Guest RAM is one host mapping. RAM below the 32-bit MMIO hole is
 * gpa [0, low_size); the rest is gpa [4 GiB, 4 GiB + size - low_size). */
struct guest_mem {
	uint8_t *host;
	uint64_t size;     /* total bytes of RAM */
	uint64_t low_size; /* bytes mapped below 4 GiB (<= VM_MMIO_HOLE_START) */
	int fd;            /* memfd behind it (shared=on, hugepages=on), else -1 */
	bool hugepages;    /* backed by 2 MiB hugetlb pages */
};

#define VM_MMIO_HOLE_START 0xC0000000ull /* 32-bit PCI MMIO window [3 GiB, 4 GiB - 16 MiB) */
#define VM_MMIO_HOLE_END   0xFF000000ull

/* Host pointer for [gpa, gpa+len) if the whole range is RAM (no wrap, no
 * crossing into the hole), else NULL. Every guest-supplied address goes
 * through this: never index m->host with a guest value directly. */
void *gm_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* ---------------- event loop (epoll, one thread) ---------------- */
struct evloop;
typedef void (*ev_cb)(void *opaque, uint32_t events);
int ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *opaque);
int ev_del(struct evloop *l, int fd);

/* ---------------- PCI ----------------
 * A device fills the identity, BAR sizes and callbacks, then registers; the
 * bus assigns the slot, BAR addresses (32-bit memory BARs in the MMIO hole)
 * and the INTx GSI, owns config space (standard header emulation, BAR
 * sizing) and routes MMIO accesses inside a BAR to bar_read/bar_write. */
#define PCI_BARS 6
struct pci_dev {
	/* filled by the device before pci_register() */
	uint16_t vendor_id, device_id, subsys_vendor_id, subsys_id;
	uint32_t class_code;          /* class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	uint32_t bar_size[PCI_BARS];  /* power of two >= 4096, 0 = unused */
	void (*bar_read)(struct pci_dev *d, int bar, uint64_t off, uint8_t *data, unsigned len);
	void (*bar_write)(struct pci_dev *d, int bar, uint64_t off, const uint8_t *data, unsigned len);
	/* called after the guest wrote config space at [off, off+len) beyond
	 * the standard header (capabilities: MSI-X enable, ...); may be NULL */
	void (*cfg_written)(struct pci_dev *d, unsigned off, unsigned len);
	void *opaque;

	/* owned by the bus */
	uint8_t cfg[256];             /* config space as the guest sees it */
	uint8_t cfg_wmask[256];       /* writable bits */
	uint8_t cap_next;             /* where the next capability goes */
	uint32_t bar_addr[PCI_BARS];  /* current guest address of each BAR (0 = unmapped) */
	unsigned slot;
	unsigned gsi;                 /* INTx line routed to the IOAPIC */
	struct vm *vm;
	struct pci_bus *bus;
};

/* Append a capability (cap[0] = id; cap[1] (next) is filled in) to config
 * space; wmask gives its guest-writable bits (may be NULL = read-only).
 * Returns its config-space offset, or a negative errno when full. */
int pci_add_cap(struct pci_dev *d, const void *cap, const void *wmask, unsigned len);
int pci_register(struct vm *vm, struct pci_dev *d);
/* Raise/lower the device's INTx line. Devices share lines (slot % 8): the
 * bus keeps one bit per asserting slot and drives the GSI while any is set
 * (level-triggered wired-OR), so one device's deassert never drops another's. */
void pci_set_intx(struct pci_dev *d, bool level);
/* Send an MSI (KVM_SIGNAL_MSI). */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
/* irqfd MSI routes (irq_route.c): bind eventfd efd to a new GSI with
 * KVM_IRQFD (at set-up: returns the GSI or a negative errno), then point
 * that GSI at an MSI address/data (KVM_SET_GSI_ROUTING; nothing is sent
 * to KVM when they did not change). Writing efd then raises that MSI. A
 * negative return means: use vm_signal_msi instead. */
int vm_irqfd_route(struct vm *vm, int efd);
int vm_irqfd_set_msi(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data);

/* ---------------- the VM ---------------- */
struct guest_mem *vm_mem(struct vm *vm);
struct evloop *vm_evloop(struct vm *vm);
int vm_fd(struct vm *vm);

#endif
