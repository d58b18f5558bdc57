/* tdx_uapi.h - cvmm's own definitions of the Linux TDX interfaces (x86-64):
 *  - the KVM_MEMORY_ENCRYPT_OP sub-commands for TD guests (asm/kvm.h;
 *    Documentation/virt/kvm/x86/intel-tdx.rst),
 *  - the /dev/tdx_guest report request of the guest agent (linux/tdx-guest.h).
 * Names, values and layouts are the kernel's (Linux 7.2 uAPI);
 * tests/test_uapi.c checks every size, field offset and constant against a
 * copy of the 7.2.13 headers.
 *
 * The TDX structures extend KVM's x86 uAPI: kvm_tdx_init_vm and
 * kvm_tdx_capabilities end in a struct kvm_cpuid2, and the sub-commands
 * travel in KVM_MEMORY_ENCRYPT_OP, so this header builds on vmm/kvm_uapi.h
 * (cvmm's copy of that uAPI) rather than repeating it. */
#ifndef CVMM_TDX_TDX_UAPI_H
#define CVMM_TDX_TDX_UAPI_H

#if defined(_LINUX_TDX_GUEST_H_)
#error "include either <linux/tdx-guest.h> or tdx/tdx_uapi.h, not both"
#endif

#include <linux/ioctl.h>
#include <linux/types.h>

#include "vmm/kvm_uapi.h"

/* ================= KVM_MEMORY_ENCRYPT_OP on a TD's VM or vCPU fd ================= */

/* struct kvm_tdx_cmd.id */
enum kvm_tdx_cmd_id {
	KVM_TDX_CAPABILITIES = 0,   /* VM fd */
	KVM_TDX_INIT_VM = 1,        /* VM fd, before any vCPU exists */
	KVM_TDX_INIT_VCPU = 2,      /* vCPU fd; data = initial RCX (TDVF: the TD HOB GPA) */
	KVM_TDX_INIT_MEM_REGION = 3, /* vCPU fd; TDH.MEM.PAGE.ADD (+ TDH.MR.EXTEND) */
	KVM_TDX_FINALIZE_VM = 4,    /* VM fd; TDH.MR.FINALIZE seals MRTD */
	KVM_TDX_GET_CPUID = 5,      /* vCPU fd */
};

struct kvm_tdx_cmd {
	__u32 id;
	__u32 flags;    /* per sub-command, e.g. KVM_TDX_MEASURE_MEMORY_REGION */
	__u64 data;     /* an immediate or a pointer to the sub-command's structure */
	__u64 hw_error; /* the TDX module's SEAMCALL status on failure */
};

/* KVM_TDX_CAPABILITIES: attributes, XFAM and CPUID bits a TD may use. The
 * caller sizes cpuid.nent and the space after the structure. */
struct kvm_tdx_capabilities {
	__u64 supported_attrs;
	__u64 supported_xfam;
	__u64 kernel_tdvmcallinfo_1_r11;
	__u64 user_tdvmcallinfo_1_r11;
	__u64 kernel_tdvmcallinfo_1_r12;
	__u64 user_tdvmcallinfo_1_r12;
	__u64 reserved[250];
	struct kvm_cpuid2 cpuid;
};

/* KVM_TDX_INIT_VM: the TD_PARAMS fields userspace chooses (TDX module ABI,
 * TD_PARAMS). MRCONFIGID/MROWNER/MROWNERCONFIG are SHA-384 sized and are
 * reported in the TD report/quote as given. */
struct kvm_tdx_init_vm {
	__u64 attributes;
	__u64 xfam;
	__u64 mrconfigid[6];
	__u64 mrowner[6];
	__u64 mrownerconfig[6];
	__u64 reserved[12]; /* TD_PARAMS before the CPUID values is 256 bytes */
	struct kvm_cpuid2 cpuid;
};

/* kvm_tdx_cmd.flags of KVM_TDX_INIT_MEM_REGION: also extend MRTD with the
 * pages (TDH.MR.EXTEND per 256 bytes), for TDVF sections with MR.EXTEND. */
#define KVM_TDX_MEASURE_MEMORY_REGION (1ULL << 0)

struct kvm_tdx_init_mem_region {
	__u64 source_addr; /* page-aligned userspace address of the contents */
	__u64 gpa;
	__u64 nr_pages;
};

/* ================= /dev/tdx_guest (in the guest) ================= */

#define TDX_REPORTDATA_LEN 64
#define TDX_REPORT_LEN     1024

/* TDG.MR.REPORT: REPORTDATA in, TDREPORT_STRUCT out */
struct tdx_report_req {
	__u8 reportdata[TDX_REPORTDATA_LEN];
	__u8 tdreport[TDX_REPORT_LEN];
};

#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)

#endif
