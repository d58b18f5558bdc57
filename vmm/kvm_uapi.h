/* kvm_uapi.h - cvmm's own definitions of the KVM ioctl interface it uses
 * (x86-64 only), replacing <linux/kvm.h> + <asm/kvm.h>: the build host's
 * headers may predate guest_memfd, SEV-SNP and TDX (Debian 12 ships 6.1).
 * Names, values and layouts are the kernel's (Documentation/virt/kvm/api.rst,
 * uAPI of Linux 7.2), so a source file switches with a one-line include
 * change. tests/test_uapi.c checks every size, field offset and constant
 * here against a copy of the 7.2.13 headers (tests/fixtures/uapi/).
 *
 * Not defined here (a deliberate subset): architectures other than x86,
 * Xen/Hyper-V/s390/PPC/ARM exits, dirty rings, nested state, XSAVE, PMU
 * filters, the kvm_sync_regs contents of kvm_run.s. SEV and TDX sub-commands
 * of KVM_MEMORY_ENCRYPT_OP are in sev/sev_uapi.h and tdx/tdx_uapi.h. */
#ifndef CVMM_VMM_KVM_UAPI_H
#define CVMM_VMM_KVM_UAPI_H

#if defined(__LINUX_KVM_H) || defined(_ASM_X86_KVM_H)
#error "include either <linux/kvm.h> or vmm/kvm_uapi.h, not both"
#endif

#include <linux/ioctl.h>
#include <linux/types.h>

#define KVM_API_VERSION 12
#define KVMIO 0xAE

/* ---------------- VM types: the KVM_CREATE_VM argument (api.rst) ---------------- */
#define KVM_X86_DEFAULT_VM      0
#define KVM_X86_SW_PROTECTED_VM 1
#define KVM_X86_SEV_VM          2
#define KVM_X86_SEV_ES_VM       3
#define KVM_X86_SNP_VM          4
#define KVM_X86_TDX_VM          5

/* ---------------- capabilities (KVM_CHECK_EXTENSION, KVM_ENABLE_CAP) ---------------- */
#define KVM_CAP_IRQCHIP               0
#define KVM_CAP_HLT                   1
#define KVM_CAP_USER_MEMORY           3
#define KVM_CAP_SET_TSS_ADDR          4
#define KVM_CAP_EXT_CPUID             7
#define KVM_CAP_NR_VCPUS              9
#define KVM_CAP_NR_MEMSLOTS           10
#define KVM_CAP_PIT                   11
#define KVM_CAP_MP_STATE              14
#define KVM_CAP_IRQ_ROUTING           25
#define KVM_CAP_IRQFD                 32
#define KVM_CAP_PIT2                  33
#define KVM_CAP_IOEVENTFD             36
#define KVM_CAP_SET_IDENTITY_MAP_ADDR 37
#define KVM_CAP_ENABLE_CAP            54
#define KVM_CAP_TSC_CONTROL           60
#define KVM_CAP_GET_TSC_KHZ           61
#define KVM_CAP_MAX_VCPUS             66
#define KVM_CAP_TSC_DEADLINE_TIMER    72
#define KVM_CAP_SIGNAL_MSI            77
#define KVM_CAP_READONLY_MEM          81
#define KVM_CAP_ENABLE_CAP_VM         98
#define KVM_CAP_CHECK_EXTENSION_VM    105
#define KVM_CAP_SPLIT_IRQCHIP         121
#define KVM_CAP_MAX_VCPU_ID           128
#define KVM_CAP_X2APIC_API            129
#define KVM_CAP_IMMEDIATE_EXIT        136
#define KVM_CAP_X86_DISABLE_EXITS     143
#define KVM_CAP_EXIT_HYPERCALL        201
#define KVM_CAP_VM_TSC_CONTROL        214
#define KVM_CAP_SYS_ATTRIBUTES        209
#define KVM_CAP_SYSTEM_EVENT_DATA     215
#define KVM_CAP_USER_MEMORY2          231
#define KVM_CAP_MEMORY_FAULT_INFO     232
#define KVM_CAP_MEMORY_ATTRIBUTES     233
#define KVM_CAP_GUEST_MEMFD           234
#define KVM_CAP_VM_TYPES              235
#define KVM_CAP_PRE_FAULT_MEMORY      236
#define KVM_CAP_X86_APIC_BUS_CYCLES_NS 237
#define KVM_CAP_GUEST_MEMFD_FLAGS     244

/* KVM_CAP_X2APIC_API flags (args[0]) */
#define KVM_X2APIC_API_USE_32BIT_IDS          (1ULL << 0)
#define KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK (1ULL << 1)

/* kvm_run.hypercall.flags */
#define KVM_EXIT_HYPERCALL_LONG_MODE (1ULL << 0)

/* The hypercall a CC guest uses to convert pages between private and shared
 * (Documentation/virt/kvm/x86/hypercalls.rst; linux/kvm_para.h and
 * asm/kvm_para.h). Userspace asks to see it with KVM_ENABLE_CAP
 * (KVM_CAP_EXIT_HYPERCALL, args[0] = 1 << KVM_HC_MAP_GPA_RANGE) and then gets
 * KVM_EXIT_HYPERCALL with args[0] = GPA, args[1] = number of 4 KiB pages,
 * args[2] = the attributes below. */
#define KVM_HC_MAP_GPA_RANGE         12
#define KVM_MAP_GPA_RANGE_PAGE_SZ_4K 0
#define KVM_MAP_GPA_RANGE_PAGE_SZ_2M (1 << 0)
#define KVM_MAP_GPA_RANGE_PAGE_SZ_1G (1 << 1)
#define KVM_MAP_GPA_RANGE_ENCRYPTED  (1 << 4)
#define KVM_MAP_GPA_RANGE_DECRYPTED  (0 << 4)

struct kvm_enable_cap {
	__u32 cap;
	__u32 flags;
	__u64 args[4];
	__u8 pad[64];
};

/* KVM_{GET,SET,HAS}_DEVICE_ATTR: on /dev/kvm (with KVM_CAP_SYS_ATTRIBUTES)
 * they report what the host supports, e.g. the SEV VMSA features
 * (KVM_X86_GRP_SEV, sev/sev_uapi.h). addr points at the value. */
struct kvm_device_attr {
	__u32 flags;
	__u32 group;
	__u64 attr;
	__u64 addr;
};

/* ---------------- memory ---------------- */
struct kvm_userspace_memory_region {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
};

/* KVM_SET_USER_MEMORY_REGION2: a slot may also be backed by a guest_memfd
 * for its private pages (api.rst, KVM_SET_USER_MEMORY_REGION2). */
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_MEM_LOG_DIRTY_PAGES (1UL << 0)
#define KVM_MEM_READONLY        (1UL << 1)
#define KVM_MEM_GUEST_MEMFD     (1UL << 2)

struct kvm_create_guest_memfd {
	__u64 size;
	__u64 flags;
	__u64 reserved[6];
};

#define GUEST_MEMFD_FLAG_MMAP        (1ULL << 0)
#define GUEST_MEMFD_FLAG_INIT_SHARED (1ULL << 1)

/* KVM_SET_MEMORY_ATTRIBUTES: which GPAs are private (backed by guest_memfd). */
struct kvm_memory_attributes {
	__u64 address;
	__u64 size;
	__u64 attributes;
	__u64 flags;
};

#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)

struct kvm_pre_fault_memory {
	__u64 gpa;
	__u64 size;
	__u64 flags;
	__u64 padding[5];
};

/* SEV (not SNP) pins guest pages it will encrypt. */
struct kvm_enc_region {
	__u64 addr;
	__u64 size;
};

/* ---------------- interrupts ---------------- */
struct kvm_irq_level {
	union {
		__u32 irq;
		__s32 status;
	};
	__u32 level;
};

struct kvm_pit_config {
	__u32 flags;
	__u32 pad[15];
};

#define KVM_PIT_SPEAKER_DUMMY 1

struct kvm_msi {
	__u32 address_lo;
	__u32 address_hi;
	__u32 data;
	__u32 flags;
	__u32 devid;
	__u8 pad[12];
};

#define KVM_MSI_VALID_DEVID (1U << 0)

#define KVM_IRQFD_FLAG_DEASSIGN (1 << 0)
#define KVM_IRQFD_FLAG_RESAMPLE (1 << 1)

struct kvm_irqfd {
	__u32 fd;
	__u32 gsi;
	__u32 flags;
	__u32 resamplefd;
	__u8 pad[16];
};

/* The kernel derives these from an enum of bit numbers. */
#define KVM_IOEVENTFD_FLAG_DATAMATCH (1 << 0)
#define KVM_IOEVENTFD_FLAG_PIO       (1 << 1)
#define KVM_IOEVENTFD_FLAG_DEASSIGN  (1 << 2)

struct kvm_ioeventfd {
	__u64 datamatch;
	__u64 addr;
	__u32 len;
	__s32 fd;
	__u32 flags;
	__u8 pad[36];
};

#define KVM_IRQ_ROUTING_IRQCHIP 1
#define KVM_IRQ_ROUTING_MSI     2

#define KVM_IRQCHIP_PIC_MASTER 0
#define KVM_IRQCHIP_PIC_SLAVE  1
#define KVM_IRQCHIP_IOAPIC     2

struct kvm_irq_routing_irqchip {
	__u32 irqchip;
	__u32 pin;
};

struct kvm_irq_routing_msi {
	__u32 address_lo;
	__u32 address_hi;
	__u32 data;
	union {
		__u32 pad;
		__u32 devid;
	};
};

struct kvm_irq_routing_entry {
	__u32 gsi;
	__u32 type;
	__u32 flags;
	__u32 pad;
	union {
		struct kvm_irq_routing_irqchip irqchip;
		struct kvm_irq_routing_msi msi;
		__u32 pad[8]; /* the kernel's largest member (s390 adapter) */
	} u;
};

struct kvm_irq_routing {
	__u32 nr;
	__u32 flags;
	struct kvm_irq_routing_entry entries[];
};

/* ---------------- vCPU state (x86) ---------------- */
struct kvm_regs {
	__u64 rax, rbx, rcx, rdx;
	__u64 rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11;
	__u64 r12, r13, r14, r15;
	__u64 rip, rflags;
};

struct kvm_segment {
	__u64 base;
	__u32 limit;
	__u16 selector;
	__u8 type;
	__u8 present, dpl, db, s, l, g, avl;
	__u8 unusable;
	__u8 padding;
};

struct kvm_dtable {
	__u64 base;
	__u16 limit;
	__u16 padding[3];
};

#define KVM_NR_INTERRUPTS 256

struct kvm_sregs {
	struct kvm_segment cs, ds, es, fs, gs, ss;
	struct kvm_segment tr, ldt;
	struct kvm_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 apic_base;
	__u64 interrupt_bitmap[(KVM_NR_INTERRUPTS + 63) / 64];
};

struct kvm_fpu {
	__u8 fpr[8][16];
	__u16 fcw;
	__u16 fsw;
	__u8 ftwx; /* abridged tag word, FXSAVE format */
	__u8 pad1;
	__u16 last_opcode;
	__u64 last_ip;
	__u64 last_dp;
	__u8 xmm[16][16];
	__u32 mxcsr;
	__u32 pad2;
};

struct kvm_msr_entry {
	__u32 index;
	__u32 reserved;
	__u64 data;
};

struct kvm_msrs {
	__u32 nmsrs;
	__u32 pad;
	struct kvm_msr_entry entries[];
};

/* cvmm's own (not the kernel's): struct kvm_msrs with room for a few
 * entries, for KVM_GET_MSRS/KVM_SET_MSRS on the stack. Embedding struct
 * kvm_msrs (flexible array) in a larger struct is a GNU extension that clang
 * -Werror rejects; the layout is the same (checked by tests/test_uapi.c). */
#define KVM_MSRS_FIXED_MAX 8
struct kvm_msrs_fixed {
	__u32 nmsrs;
	__u32 pad;
	struct kvm_msr_entry entries[KVM_MSRS_FIXED_MAX];
};

struct kvm_cpuid_entry2 {
	__u32 function;
	__u32 index;
	__u32 flags;
	__u32 eax;
	__u32 ebx;
	__u32 ecx;
	__u32 edx;
	__u32 padding[3];
};

#define KVM_CPUID_FLAG_SIGNIFCANT_INDEX (1 << 0) /* sic, the kernel's spelling */

struct kvm_cpuid2 {
	__u32 nent;
	__u32 padding;
	struct kvm_cpuid_entry2 entries[];
};

#define KVM_APIC_REG_SIZE 0x400
struct kvm_lapic_state {
	char regs[KVM_APIC_REG_SIZE];
};

#define KVM_MP_STATE_RUNNABLE      0
#define KVM_MP_STATE_UNINITIALIZED 1
#define KVM_MP_STATE_INIT_RECEIVED 2
#define KVM_MP_STATE_HALTED        3

struct kvm_mp_state {
	__u32 mp_state;
};

/* ------------ kvm_run: the vCPU's shared page (api.rst "The kvm_run structure") ------------ */
#define KVM_EXIT_UNKNOWN         0
#define KVM_EXIT_EXCEPTION       1
#define KVM_EXIT_IO              2
#define KVM_EXIT_HYPERCALL       3
#define KVM_EXIT_DEBUG           4
#define KVM_EXIT_HLT             5
#define KVM_EXIT_MMIO            6
#define KVM_EXIT_IRQ_WINDOW_OPEN 7
#define KVM_EXIT_SHUTDOWN        8
#define KVM_EXIT_FAIL_ENTRY      9
#define KVM_EXIT_INTR            10
#define KVM_EXIT_NMI             16
#define KVM_EXIT_INTERNAL_ERROR  17
#define KVM_EXIT_SYSTEM_EVENT    24
#define KVM_EXIT_IOAPIC_EOI      26
#define KVM_EXIT_X86_RDMSR       29
#define KVM_EXIT_X86_WRMSR       30
#define KVM_EXIT_NOTIFY          37
#define KVM_EXIT_MEMORY_FAULT    39
#define KVM_EXIT_TDX             40
#define KVM_EXIT_SNP_REQ_CERTS   43

#define KVM_INTERNAL_ERROR_EMULATION             1
#define KVM_INTERNAL_ERROR_SIMUL_EX              2
#define KVM_INTERNAL_ERROR_DELIVERY_EV           3
#define KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON 4

#define KVM_EXIT_IO_IN  0
#define KVM_EXIT_IO_OUT 1

#define KVM_SYSTEM_EVENT_SHUTDOWN  1
#define KVM_SYSTEM_EVENT_RESET     2
#define KVM_SYSTEM_EVENT_CRASH     3
#define KVM_SYSTEM_EVENT_WAKEUP    4
#define KVM_SYSTEM_EVENT_SUSPEND   5
#define KVM_SYSTEM_EVENT_SEV_TERM  6
#define KVM_SYSTEM_EVENT_TDX_FATAL 7

#define KVM_MEMORY_EXIT_FLAG_PRIVATE (1ULL << 3)

#define SYNC_REGS_SIZE_BYTES 2048

/* KVM_EXIT_SNP_REQ_CERTS: where the guest wants the certificate table */
struct kvm_exit_snp_req_certs {
	__u64 gpa;
	__u64 npages;
	__u64 ret;
};

struct kvm_run {
	/* in */
	__u8 request_interrupt_window;
	__u8 immediate_exit;
	__u8 padding1[6];
	/* out */
	__u32 exit_reason;
	__u8 ready_for_interrupt_injection;
	__u8 if_flag;
	__u16 flags;
	/* in (pre_kvm_run), out (post_kvm_run) */
	__u64 cr8;
	__u64 apic_base;
	/* the exit_reason's details; only the x86 members cvmm reads */
	union {
		struct {
			__u64 hardware_exit_reason;
		} hw;
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 cpu;
		} fail_entry;
		struct {
			__u32 exception;
			__u32 error_code;
		} ex;
		struct {
			__u8 direction;
			__u8 size;
			__u16 port;
			__u32 count;
			__u64 data_offset; /* from the start of kvm_run */
		} io;
		struct {
			__u64 phys_addr;
			__u8 data[8];
			__u32 len;
			__u8 is_write;
		} mmio;
		struct {
			__u64 nr;
			__u64 args[6];
			__u64 ret;
			union {
				__u32 longmode; /* before KVM_EXIT_HYPERCALL_LONG_MODE */
				__u64 flags;
			};
		} hypercall;
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[16];
		} internal;
		struct {
			__u32 type;
			__u32 ndata;
			union {
				__u64 flags;
				__u64 data[16];
			};
		} system_event;
		struct {
			__u64 flags;
			__u64 gpa;
			__u64 size;
		} memory_fault;
		/* TDG.VP.VMCALL leaves KVM hands to userspace (GHCI: GetQuote,
		 * GetTdVmCallInfo, SetupEventNotifyInterrupt) */
		struct {
			__u64 flags;
			__u64 nr;
			union {
				struct {
					__u64 ret;
					__u64 data[5];
				} unknown;
				struct {
					__u64 ret;
					__u64 gpa;
					__u64 size;
				} get_quote;
				struct {
					__u64 ret;
					__u64 leaf;
					__u64 r11, r12, r13, r14;
				} get_tdvmcall_info;
				struct {
					__u64 ret;
					__u64 vector;
				} setup_event_notify;
			};
		} tdx;
		struct kvm_exit_snp_req_certs snp_req_certs;
		char padding[256]; /* fixes the union's size */
	};
	__u64 kvm_valid_regs;
	__u64 kvm_dirty_regs;
	union {
		char padding[SYNC_REGS_SIZE_BYTES]; /* kvm_sync_regs, unused */
	} s;
};

/* ---------------- ioctls on /dev/kvm ---------------- */
#define KVM_GET_API_VERSION     _IO(KVMIO, 0x00)
#define KVM_CREATE_VM           _IO(KVMIO, 0x01)
#define KVM_CHECK_EXTENSION     _IO(KVMIO, 0x03)
#define KVM_GET_VCPU_MMAP_SIZE  _IO(KVMIO, 0x04)
#define KVM_GET_SUPPORTED_CPUID _IOWR(KVMIO, 0x05, struct kvm_cpuid2)
/* also on VM and vCPU fds of devices that have attributes */
#define KVM_SET_DEVICE_ATTR     _IOW(KVMIO, 0xe1, struct kvm_device_attr)
#define KVM_GET_DEVICE_ATTR     _IOW(KVMIO, 0xe2, struct kvm_device_attr)
#define KVM_HAS_DEVICE_ATTR     _IOW(KVMIO, 0xe3, struct kvm_device_attr)

/* ---------------- ioctls on a VM fd ---------------- */
#define KVM_CREATE_VCPU             _IO(KVMIO, 0x41)
#define KVM_SET_USER_MEMORY_REGION  _IOW(KVMIO, 0x46, struct kvm_userspace_memory_region)
#define KVM_SET_TSS_ADDR            _IO(KVMIO, 0x47)
#define KVM_SET_IDENTITY_MAP_ADDR   _IOW(KVMIO, 0x48, __u64)
#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#define KVM_CREATE_IRQCHIP          _IO(KVMIO, 0x60)
#define KVM_IRQ_LINE                _IOW(KVMIO, 0x61, struct kvm_irq_level)
#define KVM_SET_GSI_ROUTING         _IOW(KVMIO, 0x6a, struct kvm_irq_routing)
#define KVM_IRQFD                   _IOW(KVMIO, 0x76, struct kvm_irqfd)
#define KVM_CREATE_PIT2             _IOW(KVMIO, 0x77, struct kvm_pit_config)
#define KVM_IOEVENTFD               _IOW(KVMIO, 0x79, struct kvm_ioeventfd)
#define KVM_SIGNAL_MSI              _IOW(KVMIO, 0xa5, struct kvm_msi)
#define KVM_ENABLE_CAP              _IOW(KVMIO, 0xa3, struct kvm_enable_cap)
/* SEV and TDX sub-commands (sev/sev_uapi.h, tdx/tdx_uapi.h); TDX also
 * issues some on a vCPU fd. */
#define KVM_MEMORY_ENCRYPT_OP             _IOWR(KVMIO, 0xba, unsigned long)
#define KVM_MEMORY_ENCRYPT_REG_REGION     _IOR(KVMIO, 0xbb, struct kvm_enc_region)
#define KVM_MEMORY_ENCRYPT_UNREG_REGION   _IOR(KVMIO, 0xbc, struct kvm_enc_region)
#define KVM_SET_MEMORY_ATTRIBUTES         _IOW(KVMIO, 0xd2, struct kvm_memory_attributes)
#define KVM_CREATE_GUEST_MEMFD            _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)
#define KVM_PRE_FAULT_MEMORY              _IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory)

/* ---------------- ioctls on a vCPU fd ---------------- */
#define KVM_RUN           _IO(KVMIO, 0x80)
#define KVM_GET_REGS      _IOR(KVMIO, 0x81, struct kvm_regs)
#define KVM_SET_REGS      _IOW(KVMIO, 0x82, struct kvm_regs)
#define KVM_GET_SREGS     _IOR(KVMIO, 0x83, struct kvm_sregs)
#define KVM_SET_SREGS     _IOW(KVMIO, 0x84, struct kvm_sregs)
#define KVM_GET_MSRS      _IOWR(KVMIO, 0x88, struct kvm_msrs)
#define KVM_SET_MSRS      _IOW(KVMIO, 0x89, struct kvm_msrs)
#define KVM_GET_FPU       _IOR(KVMIO, 0x8c, struct kvm_fpu)
#define KVM_SET_FPU       _IOW(KVMIO, 0x8d, struct kvm_fpu)
#define KVM_GET_LAPIC     _IOR(KVMIO, 0x8e, struct kvm_lapic_state)
#define KVM_SET_LAPIC     _IOW(KVMIO, 0x8f, struct kvm_lapic_state)
#define KVM_SET_CPUID2    _IOW(KVMIO, 0x90, struct kvm_cpuid2)
#define KVM_GET_CPUID2    _IOWR(KVMIO, 0x91, struct kvm_cpuid2)
#define KVM_GET_MP_STATE  _IOR(KVMIO, 0x98, struct kvm_mp_state)
#define KVM_SET_MP_STATE  _IOW(KVMIO, 0x99, struct kvm_mp_state)
#define KVM_NMI           _IO(KVMIO, 0x9a)
/* vCPU fd, and VM fd with KVM_CAP_VM_TSC_CONTROL (a TD's TSC frequency is
 * fixed VM-wide, before KVM_TDX_INIT_VM) */
#define KVM_SET_TSC_KHZ   _IO(KVMIO, 0xa2)
#define KVM_GET_TSC_KHZ   _IO(KVMIO, 0xa3)

#endif
