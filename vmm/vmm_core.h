/* vmm_core.h - internal to vmm/ (the VM core, not vmm/virtio/): the VM
 * object, the platform interface, the x86 boot layout and the builders of
 * the boot-time tables. Other directories use vmm/vmm.h; devices use vm.h. */
#ifndef CVMM_VMM_CORE_H
#define CVMM_VMM_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/firmware.h"
#include "sev/sev.h"
#include "vmm/confine/confine.h"
#include "vmm/vm.h"

/* ---------------- exit status of `cvmm run` (docs/run.md) ---------------- */
#define VMM_EXIT_POWEROFF 0 /* guest powered off (ACPI S5), or SIGTERM/SIGINT */
#define VMM_EXIT_ERROR    2 /* usage, input or setup error */
#define VMM_EXIT_REBOOT   3 /* guest asked for a reset (ACPI reset register, i8042 0xFE) */
#define VMM_EXIT_CRASH    4 /* triple fault, KVM internal error, failed entry */

/* ---------------- guest physical layout (x86-64 boot) ----------------
 * Low memory is laid out like a PC without firmware: the tables Linux
 * looks for live where it scans for them (MP floating pointer in the BIOS
 * area, ACPI RSDP in 0xE0000-0xFFFFF), everything else below 1 MiB. */
#define BOOT_GDT_GPA        0x00000500ull
#define BOOT_ZERO_PAGE_GPA  0x00007000ull /* struct boot_params */
#define BOOT_PML4_GPA       0x00009000ull
#define BOOT_PDPT_GPA       0x0000a000ull
#define BOOT_PD_GPA         0x0000b000ull /* 4 pages: identity map of 4 GiB in 2 MiB pages */
#define BOOT_CMDLINE_GPA    0x00020000ull
#define BOOT_CMDLINE_MAX    0x00010000ull
#define BOOT_EBDA_GPA       0x0009fc00ull /* start of the reserved low area */
#define BOOT_ACPI_GPA       0x000e0000ull /* RSDP + tables, 64 KiB */
#define BOOT_ACPI_SIZE      0x00010000ull
#define BOOT_MPTABLE_GPA    0x000f0000ull
#define BOOT_MPTABLE_SIZE   0x0000f000ull
#define BOOT_RESET_VECTOR   0x000ffff0ull /* real-mode reset vector (f000:fff0) */
#define BOOT_HIGH_GPA       0x00100000ull
#define BOOT_KERNEL_DEFAULT 0x01000000ull /* if the kernel gives no pref_address */

#define IOAPIC_GPA 0xfec00000u
#define LAPIC_GPA  0xfee00000u
/* 32-bit PCI memory BARs are placed here (below the IOAPIC). */
#define PCI_MMIO_START VM_MMIO_HOLE_START
#define PCI_MMIO_END   0xfec00000ull
/* The ACPI sleep control/status and reset register (FADT, hardware-reduced
 * ACPI 6.x §4.8.3.7-8): one byte-wide I/O port. */
#define ACPI_SLEEP_PORT 0x3c0
#define ACPI_RESET_VALUE 0x01
#define ACPI_S5_VALUE ((5 << 2) | (1 << 5)) /* SLP_TYP=5 (\_S5), SLP_EN */
/* INTx: slot s, INTA# goes to IOAPIC pin PCI_GSI_BASE + s % 8 (DSDT _PRT
 * and MP table interrupt entries say the same). */
#define PCI_GSI_BASE 16
static inline unsigned pci_slot_gsi(unsigned slot) { return PCI_GSI_BASE + slot % 8; }

/* ---------------- guest memory ---------------- */
/* How guest RAM is backed (`cvmm run --mem SIZE,hugepages=on,shared=on,
 * prealloc=on` and `--numa node=N`, docs/run.md). */
struct gm_opts {
	bool hugepages;  /* memfd with MFD_HUGETLB (2 MiB pages from the reserved pool) */
	bool shared;     /* memfd, MAP_SHARED (vhost-user, guest_memfd's shared half) */
	bool prealloc;   /* fault every page in before the guest runs */
	bool no_thp;     /* thp=off: no MADV_HUGEPAGE (advised by default) */
	bool numa;       /* mbind(MPOL_BIND) to host node numa_node */
	int numa_node;
};
/* Map size bytes of RAM as o says (NULL or all zero = anonymous, THP
 * advised) and split
 * it around the 32-bit hole. Errors name the option and what is missing
 * (e.g. how many huge pages to reserve). */
int gm_alloc_opts(struct guest_mem *m, uint64_t size, const struct gm_opts *o);
int gm_alloc(struct guest_mem *m, uint64_t size);
/* "SIZE[,hugepages=on|off][,shared=on|off][,prealloc=on|off][,thp=on|off]"
 * (o keeps what is not named) and "node=N". */
int gm_parse_mem(const char *arg, uint64_t *size, struct gm_opts *o);
int gm_parse_numa(const char *arg, struct gm_opts *o);
void gm_free(struct guest_mem *m);

/* ---------------- bzImage and boot_params (boot.c) ----------------
 * Linux x86 boot protocol (Documentation/arch/x86/boot.rst) 2.12+, 64-bit
 * entry point. */
/* Setup header offsets (boot.rst "THE REAL-MODE KERNEL HEADER"): boot.c
 * reads and fills them, fw_cfg_items.c fills the loader fields. */
#define HDR_SETUP_SECTS   0x1f1
#define HDR_BOOT_FLAG     0x1fe
#define HDR_JUMP          0x200
#define HDR_HEADER        0x202
#define HDR_VERSION       0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS     0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE  0x21c
#define HDR_HEAP_END_PTR  0x224
#define HDR_CMD_LINE_PTR  0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE   0x234
#define HDR_XLOADFLAGS    0x236
#define HDR_CMDLINE_SIZE  0x238
#define HDR_PAYLOAD_OFFSET 0x248
#define HDR_PREF_ADDRESS  0x258
#define HDR_INIT_SIZE     0x260
#define CAN_USE_HEAP      0x80 /* loadflags bit 7 */
struct bzimage {
	const uint8_t *setup;    /* real-mode part: boot sector + setup header */
	size_t setup_len;
	const uint8_t *kernel;   /* protected-mode kernel */
	size_t kernel_len;
	uint16_t version;        /* boot protocol version */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t cmdline_size;   /* maximum command line length (without NUL) */
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;      /* memory the kernel needs from its load address */
	uint32_t payload_off;    /* compressed vmlinux inside kernel[] (2.08+) */
	uint32_t payload_len;
};
/* Parse the setup header of a bzImage (untrusted bytes, bounds-checked). */
int vmm_bzimage_parse(const uint8_t *img, size_t len, const char *what, struct bzimage *bz);

struct e820_entry {
	uint64_t addr, size;
	uint32_t type; /* 1 RAM, 2 reserved */
};
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX 128
/* The e820 map for guest memory m: low RAM, the reserved BIOS area
 * (EBDA..1 MiB), RAM above 1 MiB up to the hole, RAM above 4 GiB. */
unsigned vmm_e820_build(const struct guest_mem *m, struct e820_entry *e, unsigned max);

struct boot_layout {
	uint64_t kernel_gpa, kernel_end, entry_gpa; /* [kernel_gpa, kernel_end): loaded bytes */
	uint64_t initrd_gpa, initrd_size;
	uint64_t cmdline_gpa, cmdline_len;        /* length with the NUL */
	uint64_t rsdp_gpa;
};
/* Fill the 4 KiB zero page: setup header copied from the image, loader
 * fields, command line and initrd pointers, e820 map, RSDP address. */
int vmm_boot_params_build(uint8_t zp[4096], const struct bzimage *bz, const struct guest_mem *m,
			  const struct boot_layout *l, size_t cmdline_len);
/* Load kernel, initrd and command line into guest memory and write the
 * zero page at BOOT_ZERO_PAGE_GPA; *l receives where everything went. */
int vmm_boot_load(struct guest_mem *m, const uint8_t *img, size_t img_len, const char *kernel_path,
		  const uint8_t *initrd, size_t initrd_len, const char *cmdline, uint64_t rsdp_gpa,
		  struct boot_layout *l);
/* Inflate the bzImage payload on the host and load the vmlinux ELF segments
 * (vmlinux.c); [*lo, *hi) is what it occupies. -ENOTSUP or another error
 * means: boot the bzImage's own decompressor instead. */
int vmm_vmlinux_load(struct guest_mem *m, const struct bzimage *bz, uint64_t *lo, uint64_t *hi, uint64_t *entry);
/* Identity page tables (4 GiB, 2 MiB pages), the boot GDT, and a reset
 * vector stub that asks for a reset through the i8042. */
int vmm_boot_page_tables(struct guest_mem *m);

/* ---------------- the direct-boot launch plan (boot_plan.c) ----------------
 * design.md "one launch plan": everything `cvmm run` puts into guest memory
 * before the first KVM_RUN is loaded by vmm_boot_plan() and recorded as a
 * plan step (page aligned, sorted by gpa, no overlaps), so the platform
 * replays and the measurement folds exactly what was loaded. `cvmm measure
 * --platform sim-snp` runs the same function over a scratch guest memory. */
#define SIM_SNP_SEV_FEATURES 0x1ull /* VMSA SEV_FEATURES: SNPActive (as an SNP guest's) */
#define SIM_SNP_DEFAULT_POLICY 0x30000ull /* SMT allowed, reserved bit 17 (SNP ABI Table 9) */
#define BOOT_SECRETS_GPA 0x00010000ull /* sim-snp: the SNP secrets page */
#define BOOT_CPUID_GPA   0x00011000ull /* sim-snp: the SNP CPUID page */
struct boot_inputs {
	const uint8_t *kernel;
	size_t kernel_len;
	const char *kernel_path;  /* for messages */
	const uint8_t *initrd;
	size_t initrd_len;
	const char *cmdline;
	unsigned vcpus;
	bool snp;                 /* add the SNP pages: secrets, CPUID, one VMSA per vCPU */
	uint64_t sev_features;    /* VMSA SEV_FEATURES with snp */
};
/* m must be zeroed (fresh). On success *entry is the BSP's entry point and
 * plan's steps point into m (VMSAs into plan-owned pages). */
int vmm_boot_plan(struct guest_mem *m, const struct boot_inputs *in, struct launch_plan *plan, uint64_t *entry);
/* The 64-bit boot protocol state of the BSP (boot.rst "64-bit BOOT
 * PROTOCOL"): long mode, identity page tables, flat segments, rsi = zero page. */
void vmm_boot_cpu_state(uint64_t entry, struct sev_cpu_state *s);
/* The INIT state of an application processor (SDM vol. 3A table 9-1). */
void vmm_ap_cpu_state(struct sev_cpu_state *s);
/* The default command line of `cvmm run` (and of the sim-snp measurement). */
const char *vmm_default_cmdline(bool console_virtio);

/* ---------------- MP table (mptable.c) ----------------
 * Intel MultiProcessor Specification 1.4, chapter 4. */
struct mpt_pci_irq {
	uint8_t slot, gsi; /* INTA# of slot -> IOAPIC pin gsi */
};
#define MPT_IOAPIC_ID_FOR(ncpus) ((uint8_t)(ncpus)) /* first id after the LAPICs */
int vmm_mptable_build(uint8_t *buf, size_t cap, uint32_t gpa, unsigned ncpus,
		      const struct mpt_pci_irq *irqs, unsigned nirqs, size_t *len);

/* ---------------- ACPI (acpi.c) ----------------
 * RSDP, XSDT, FADT (hardware-reduced), MADT, DSDT (PCI root with _PRT, \_S5).
 * The RSDP is at gpa (offset 0 of buf). */
int vmm_acpi_build(uint8_t *buf, size_t cap, uint32_t gpa, unsigned ncpus, size_t *len);
uint8_t vmm_acpi_checksum(const uint8_t *p, size_t n);

/* ---------------- PCI bus (pci.c) ---------------- */
#define PCI_SLOTS 32
struct pci_bus {
	pthread_mutex_t lock;
	struct pci_dev *dev[PCI_SLOTS];
	struct pci_dev *func[PCI_SLOTS][7]; /* functions 1-7 (pci_bus_add_fixed) */
	struct pci_dev host_bridge;
	uint32_t cf8;          /* CONFIG_ADDRESS (PCI Local Bus 3.0 §3.2.2.3.2) */
	uint64_t mmio_next;    /* next free address for BARs */
	struct vm *vm;
	/* INTx wired-OR: slots asserting each of the 8 PCI GSIs, and what
	 * drives a line (vm_set_irq; replaceable for tests) */
	uint32_t intx_slots[8];
	void (*set_line)(struct vm *vm, unsigned gsi, int level);
};
void pci_bus_init(struct pci_bus *b, struct vm *vm);
int pci_bus_add(struct pci_bus *b, struct pci_dev *d);
/* A device without BARs at slot/fn (chipset functions of a firmware boot). */
int pci_bus_add_fixed(struct pci_bus *b, struct pci_dev *d, unsigned slot, unsigned fn);
/* Config space access of bus 0 (absent functions read all ones). */
void pci_cfg_read(struct pci_bus *b, unsigned slot, unsigned fn, unsigned off, uint8_t *data, unsigned len);
void pci_cfg_write(struct pci_bus *b, unsigned slot, unsigned fn, unsigned off, const uint8_t *data, unsigned len);
/* Ports 0xCF8-0xCFF. */
void pci_conf1_io(struct pci_bus *b, uint16_t port, uint8_t *data, unsigned len, bool write);
/* A guest MMIO access: true if a BAR claimed it. */
bool pci_mmio(struct pci_bus *b, uint64_t addr, uint8_t *data, unsigned len, bool write);
/* INTA# routing of every device on the bus (for the MP table). */
unsigned pci_bus_irqs(struct pci_bus *b, struct mpt_pci_irq *out, unsigned max);

/* ---------------- port I/O dispatch (vm.c) ---------------- */
typedef void (*pio_fn)(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write);
int vm_pio_register(struct vm *vm, uint16_t base, uint16_t len, pio_fn fn, void *opaque);
/* Drive a GSI (KVM_IRQ_LINE). */
void vm_set_irq(struct vm *vm, unsigned gsi, int level);
/* irq_route.c: KVM's default GSI routes (0-15 IOAPIC + PIC, 16-23 IOAPIC)
 * into e (room for 40); returns the count. Freed with the VM (kvm.c). */
struct kvm_irq_routing_entry;
unsigned irq_route_default_table(struct kvm_irq_routing_entry *e);
void vm_irq_routes_free(struct vm *vm);
/* End the VM with a `cvmm run` exit status; the first request wins. */
void vm_request_exit(struct vm *vm, int status, const char *why);

/* ---------------- event loop (evloop.c) ---------------- */
int evloop_create(struct evloop **out);
int evloop_start(struct evloop *l);
void evloop_stop(struct evloop *l);    /* joins the thread; ev_del still works */
void evloop_destroy(struct evloop *l); /* stops the thread, frees entries */
/* entries allocated (watched + deleted awaiting the end of a batch), for tests */
size_t evloop_entry_count(struct evloop *l);

/* ---------------- 8250 UART (serial.c) ---------------- */
struct serial;
int serial_create(struct vm *vm, uint16_t base, unsigned irq, int in_fd, int out_fd, struct serial **out);
void serial_destroy(struct serial *s);

/* ---------------- platforms (platform.c) ----------------
 * What differs between plain KVM and the confidential backends (SEV, SNP,
 * TDX, sim-*): the VM type, how the launch plan reaches guest memory and
 * the initial vCPU state, and the final launch step. The kvm platform
 * writes boot data into RAM directly and sets long mode in the registers. */
struct vm_config;
struct att_endpoint;
struct cc_platform {
	const char *name;
	bool confidential;  /* legacy devices only with --debug-console */
	bool snp_plan;      /* the launch plan carries the SNP pages and VMSAs */
	unsigned long vm_type; /* KVM_CREATE_VM argument */
	/* after the VM and its memory exist, before vCPUs are created */
	int (*init)(struct vm *vm);
	/* the launch plan is in guest memory (vm->plan): replay/measure it */
	int (*launch)(struct vm *vm);
	/* set the boot vCPU (index 0) or an AP to its reset/entry state */
	int (*setup_vcpu)(struct vm *vm, unsigned index, int vcpu_fd);
	/* after all boot data is in memory and the vCPUs are set up */
	int (*finalize)(struct vm *vm);
	/* after the vCPUs stopped: release what init/launch made */
	void (*teardown)(struct vm *vm);
};
const struct cc_platform *cc_platform_find(const char *name);
/* sim-snp: the launch measurement folded at launch (NULL on other platforms) */
const uint8_t *vmm_sim_snp_measurement(const struct vm *vm);
/* sim-tdx: the MRTD folded at launch (NULL on other platforms) */
const uint8_t *vmm_sim_tdx_mrtd(const struct vm *vm);
/* The launch record of the attestation bundle (launch_record.c): what a
 * relying party needs to recompute the reference value. New reference. */
struct json_t;
struct json_t *vmm_launch_record(const struct vm *vm, const char *cmdline);
/* "kvm, sim-snp" for messages */
const char *cc_platform_names(void);

/* ---------------- `cvmm run` configuration ---------------- */
#define VMM_MAX_DISKS 8
struct vm_config {
	const char *platform;
	const char *kernel, *initrd, *cmdline;
	const char *firmware;  /* --firmware: boot OVMF through fw_cfg (docs/firmware.md) */
	uint64_t mem;
	struct gm_opts mem_opts;  /* --mem SIZE,hugepages=on,... and --numa node=N */
	unsigned vcpus;
	bool console_virtio;   /* --console virtio (else serial) */
	bool debug_console;    /* 8250 even when the platform is confidential */
#define VMM_DISK_QUEUES_MAX 4 /* VIRTIO_MAX_QUEUES */
	struct { const char *path; bool ro, direct; unsigned queues; } disk[VMM_MAX_DISKS];
	unsigned ndisks;
	bool rng;
	const char *net_tap;
	uint8_t net_mac[6];
	bool net_mac_set;
	unsigned net_vhost;    /* enum virtio_net_vhost: auto (default), on, off */
	uint64_t vsock_cid;
	const char *manifest_out;
	/* sim-snp (docs/attestation.md) */
	uint64_t policy;             /* SNP guest policy */
	const char *state_dir;       /* sim key store; NULL = default */
	/* attestation endpoint */
	const char *attest_listen;   /* ADDR:PORT or NULL */
	const char *tls_cert, *tls_key;
	unsigned attest_agent_port;
	/* confinement (docs/security.md) */
	enum confine_seccomp_mode seccomp; /* default kill */
	const char *launch_notice;   /* printed on stderr once the vCPUs run */
	/* the API socket's controller (vmm/api.h): told when the guest runs
	 * and when it ends; it owns the signals (NULL for plain cvmm run) */
	struct api_vmm *api;
};
/* Build, boot and run the VM until it ends; returns the exit status
 * (VMM_EXIT_*), with err_msg() set for VMM_EXIT_ERROR. */
int vmm_run(const struct vm_config *cfg);

/* ---------------- the VM object (vm.c, kvm.c, vcpu.c) ---------------- */
struct kvm_run;
struct kvm_cpuid2;
#define VM_MAX_VCPUS 64
#define VM_MAX_PIO 16
struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
};
struct pio_range {
	uint16_t base, len;
	pio_fn fn;
	void *opaque;
};
struct vm {
	const struct vm_config *cfg;
	const struct cc_platform *platform;
	int kvm_fd, vm_fd;
	struct guest_mem mem;
	struct evloop *evloop;
	struct pci_bus pci;
	struct serial *serial;
	struct pio_range pio[VM_MAX_PIO];
	unsigned npio;
	unsigned nvcpus;
	struct vcpu vcpu[VM_MAX_VCPUS];
	uint64_t entry;       /* 64-bit kernel entry */
	int exit_efd;         /* written when exit_status is set */
	int exit_status;      /* -1 while running */
	char exit_why[128];
	volatile int stopping;
	pthread_mutex_t exit_lock;
	bool tsc_deadline;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
	struct irq_routes *irq_routes; /* irqfd MSI routes (irq_route.c) */
	struct launch_plan plan;  /* what was loaded (boot_plan.c) */
	struct fw_boot *fw;       /* --firmware (firmware_boot.c), else NULL */
	uint8_t *manifest;        /* device manifest DTB */
	size_t manifest_len;
	uint8_t host_data[32];    /* SHA-256 of the manifest */
	uint8_t kernel_sha256[32], initrd_sha256[32]; /* of the boot files, for the launch record */
	bool has_initrd;
	void *platform_state;     /* owned by the platform */
	struct att_endpoint *endpoint;
	/* vCPU threads install their seccomp filter, then wait here until the
	 * main thread has its own and opens the gate (vm.c) */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	bool gate_open;
	/* pause (API vm.pause): under gate_lock, vCPUs park on pause_cond
	 * while pause_req is set; in_loop counts those still running */
	pthread_cond_t pause_cond;
	bool pause_req;
	unsigned parked, in_loop;
};
/* vcpu.c: the vCPU threads wait for this before their first KVM_RUN */
void vm_gate_open(struct vm *vm);

/* kvm.c */
int kvm_vm_create(struct vm *vm);
int kvm_vm_irqchip(struct vm *vm);
int kvm_vm_map_memory(struct vm *vm);
void kvm_vm_close(struct vm *vm);
/* vcpu.c */
int vcpu_create(struct vm *vm, unsigned index);
int vcpu_setup_long_mode(struct vm *vm, struct vcpu *v);
int vcpu_set_state(struct vcpu *v, const struct sev_cpu_state *st);
int vcpu_start(struct vcpu *v);
void vcpu_stop_all(struct vm *vm);
/* Stop every vCPU out of KVM_RUN and wait until all are parked (or have
 * ended); resume lets them run again. From one controlling thread. */
void vcpu_pause_all(struct vm *vm);
void vcpu_resume_all(struct vm *vm);
void vcpu_destroy(struct vcpu *v);
/* CVMM_PROFILE=1: sample vCPU 0's rip while the guest runs; dump at exit. */
void vcpu_profile_start(struct vm *vm);
/* CVMM_DEBUG_TIMING=1: "cvmm run: <CLOCK_MONOTONIC> <what>" on stderr */
void vmm_debug_timing(const char *what);
void vcpu_profile_dump(void);
/* Registers of every vCPU to stderr (CVMM_DEBUG_EXIT=1, after a stop). */
void vcpu_dump_all(struct vm *vm);
/* cpuid.c */
int vcpu_set_cpuid(struct vm *vm, struct vcpu *v);
/* Adjust one supported-CPUID set for vCPU index of n (pure; tested). */
void vmm_cpuid_adjust(struct kvm_cpuid2 *c, unsigned index, unsigned n, bool tsc_deadline);

#endif
