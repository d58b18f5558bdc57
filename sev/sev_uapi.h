/* sev_uapi.h - cvmm's own definitions of the Linux SEV interfaces (x86-64):
 *  - the KVM_MEMORY_ENCRYPT_OP sub-commands for SEV, SEV-ES and SEV-SNP
 *    guests (asm/kvm.h; Documentation/virt/kvm/x86/amd-memory-encryption.rst),
 *  - the /dev/sev platform commands cvmm probes with (linux/psp-sev.h),
 *  - the /dev/sev-guest requests of the guest agent (linux/sev-guest.h).
 * Names, values and layouts are the kernel's (Linux 7.2 uAPI), so code reads
 * like the kernel documentation; tests/test_uapi.c checks every size, field
 * offset and constant against a copy of the 7.2.13 headers. The ioctl that
 * carries the KVM sub-commands, KVM_MEMORY_ENCRYPT_OP, is in vmm/kvm_uapi.h.
 * Field meanings: AMD SEV-SNP Firmware ABI (56860) SNP_LAUNCH_START,
 * SNP_LAUNCH_UPDATE, SNP_LAUNCH_FINISH, MSG_REPORT_REQ; SEV API (55766)
 * LAUNCH_START .. LAUNCH_FINISH, PLATFORM_STATUS. */
#ifndef CVMM_SEV_SEV_UAPI_H
#define CVMM_SEV_SEV_UAPI_H

#if defined(_ASM_X86_KVM_H) || defined(__PSP_SEV_USER_H__) || defined(__UAPI_LINUX_SEV_GUEST_H_)
#error "include either the kernel's SEV headers or sev/sev_uapi.h, not both"
#endif

#include <linux/ioctl.h>
#include <linux/types.h>

/* ================= KVM_MEMORY_ENCRYPT_OP on a SEV VM fd ================= */

/* KVM_GET_DEVICE_ATTR on /dev/kvm, group KVM_X86_GRP_SEV: what the host's
 * KVM supports (a u64 each): SEV_FEATURES for kvm_sev_init.vmsa_features,
 * SNP policy bits, whether certificate requests can reach userspace. */
#define KVM_X86_GRP_SEV           1
#define KVM_X86_SEV_VMSA_FEATURES 0
#define KVM_X86_SNP_POLICY_BITS   1
#define KVM_X86_SEV_SNP_REQ_CERTS 2

/* Sub-command ids (struct kvm_sev_cmd.id) */
enum sev_cmd_id {
	KVM_SEV_INIT = 0,
	KVM_SEV_ES_INIT = 1,
	KVM_SEV_LAUNCH_START = 2,
	KVM_SEV_LAUNCH_UPDATE_DATA = 3,
	KVM_SEV_LAUNCH_UPDATE_VMSA = 4,
	KVM_SEV_LAUNCH_SECRET = 5,
	KVM_SEV_LAUNCH_MEASURE = 6,
	KVM_SEV_LAUNCH_FINISH = 7,
	KVM_SEV_GUEST_STATUS = 16,
	KVM_SEV_GET_ATTESTATION_REPORT = 20,
	KVM_SEV_INIT2 = 22, /* replaces KVM_SEV_INIT/KVM_SEV_ES_INIT; VM type gives the mode */
	KVM_SEV_SNP_LAUNCH_START = 100,
	KVM_SEV_SNP_LAUNCH_UPDATE = 101,
	KVM_SEV_SNP_LAUNCH_FINISH = 102,
	KVM_SEV_SNP_ENABLE_REQ_CERTS = 103,
};

/* The argument of KVM_MEMORY_ENCRYPT_OP: data points at the sub-command's
 * structure; error receives the firmware status (SEV_RET_*). */
struct kvm_sev_cmd {
	__u32 id;
	__u32 pad0;
	__u64 data;
	__u32 error;
	__u32 sev_fd; /* an open /dev/sev */
};

/* KVM_SEV_INIT2. vmsa_features become SEV_FEATURES of every VMSA, so they
 * are part of the SEV-ES/SNP launch digest. */
struct kvm_sev_init {
	__u64 vmsa_features;
	__u32 flags;
	__u16 ghcb_version;
	__u16 pad1;
	__u32 pad2[8];
};

/* SEV / SEV-ES launch (SEV API, LAUNCH_START .. LAUNCH_FINISH) */
struct kvm_sev_launch_start {
	__u32 handle;
	__u32 policy;
	__u64 dh_uaddr;
	__u32 dh_len;
	__u32 pad0;
	__u64 session_uaddr;
	__u32 session_len;
	__u32 pad1;
};

struct kvm_sev_launch_update_data {
	__u64 uaddr;
	__u32 len;
	__u32 pad0;
};

struct kvm_sev_launch_secret {
	__u64 hdr_uaddr;
	__u32 hdr_len;
	__u32 pad0;
	__u64 guest_uaddr;
	__u32 guest_len;
	__u32 pad1;
	__u64 trans_uaddr;
	__u32 trans_len;
	__u32 pad2;
};

/* KVM_SEV_LAUNCH_MEASURE: 32-byte HMAC measurement + 16-byte nonce */
struct kvm_sev_launch_measure {
	__u64 uaddr;
	__u32 len;
	__u32 pad0;
};

struct kvm_sev_guest_status {
	__u32 handle;
	__u32 policy;
	__u32 state;
};

/* SEV-SNP launch */
struct kvm_sev_snp_launch_start {
	__u64 policy;
	__u8 gosvw[16];
	__u16 flags;
	__u8 pad0[6];
	__u64 pad1[4];
};

/* struct kvm_sev_snp_launch_update.type: the firmware's PAGE_TYPE values
 * (SNP ABI, SNP_LAUNCH_UPDATE, table "PAGE_TYPE field encodings") */
#define KVM_SEV_PAGE_TYPE_INVALID        0x0
#define KVM_SEV_SNP_PAGE_TYPE_NORMAL     0x1
#define KVM_SEV_SNP_PAGE_TYPE_ZERO       0x3
#define KVM_SEV_SNP_PAGE_TYPE_UNMEASURED 0x4
#define KVM_SEV_SNP_PAGE_TYPE_SECRETS    0x5
#define KVM_SEV_SNP_PAGE_TYPE_CPUID      0x6

/* KVM advances gfn_start/uaddr/len as pages are done, so a call
 * interrupted by -EAGAIN/-EINTR is simply repeated. */
struct kvm_sev_snp_launch_update {
	__u64 gfn_start;
	__u64 uaddr;
	__u64 len;
	__u8 type;
	__u8 pad0;
	__u16 flags;
	__u32 pad1;
	__u64 pad2[4];
};

#define KVM_SEV_SNP_ID_BLOCK_SIZE    96
#define KVM_SEV_SNP_ID_AUTH_SIZE     4096
#define KVM_SEV_SNP_FINISH_DATA_SIZE 32

struct kvm_sev_snp_launch_finish {
	__u64 id_block_uaddr;
	__u64 id_auth_uaddr;
	__u8 id_block_en;
	__u8 auth_key_en;
	__u8 vcek_disabled;
	__u8 host_data[KVM_SEV_SNP_FINISH_DATA_SIZE];
	__u8 pad0[3];
	__u16 flags;
	__u64 pad1[4];
};

/* ================= /dev/sev (SEV_ISSUE_CMD) ================= */

/* struct sev_issue_cmd.cmd */
enum {
	SEV_FACTORY_RESET = 0,
	SEV_PLATFORM_STATUS = 1,
	SEV_PEK_GEN = 2,
	SEV_PEK_CSR = 3,
	SEV_PDH_GEN = 4,
	SEV_PDH_CERT_EXPORT = 5,
	SEV_PEK_CERT_IMPORT = 6,
	SEV_GET_ID = 7,
	SEV_GET_ID2 = 8,
	SNP_PLATFORM_STATUS = 9,
	SNP_COMMIT = 10,
	SNP_SET_CONFIG = 11,
	SNP_VLEK_LOAD = 12,
};

/* Firmware status codes (SNP ABI table "Status Codes") that cvmm names in
 * its error messages; the kernel's sev_ret_code lists them all. */
enum {
	SEV_RET_SUCCESS = 0x0000,
	SEV_RET_INVALID_PLATFORM_STATE = 0x0001,
	SEV_RET_INVALID_GUEST_STATE = 0x0002,
	SEV_RET_INVALID_LEN = 0x0004,
	SEV_RET_POLICY_FAILURE = 0x0007,
	SEV_RET_INVALID_ADDRESS = 0x0009,
	SEV_RET_INVALID_PARAM = 0x0016, /* e.g. a CPUID page the firmware corrected */
	SEV_RET_RESOURCE_LIMIT = 0x0017,
	SEV_RET_INVALID_PAGE_STATE = 0x001A,
};

/* The kernel packs these (firmware layouts), hence the attribute. */
struct sev_user_data_status {
	__u8 api_major;
	__u8 api_minor;
	__u8 state;
	__u32 flags;
	__u8 build;
	__u32 guest_count;
} __attribute__((packed));

#define SEV_STATUS_FLAGS_CONFIG_ES 0x0100

struct sev_user_data_snp_status {
	__u8 api_major;
	__u8 api_minor;
	__u8 state;
	__u8 is_rmp_initialized : 1;
	__u8 rsvd : 7;
	__u32 build_id;
	__u32 mask_chip_id : 1;
	__u32 mask_chip_key : 1;
	__u32 vlek_en : 1;
	__u32 feature_info : 1;
	__u32 rapl_dis : 1;
	__u32 ciphertext_hiding_cap : 1;
	__u32 ciphertext_hiding_en : 1;
	__u32 rsvd1 : 25;
	__u32 guest_count;
	__u64 current_tcb_version;
	__u64 reported_tcb_version;
} __attribute__((packed));

struct sev_issue_cmd {
	__u32 cmd;
	__u64 data; /* address of the command's structure */
	__u32 error;
} __attribute__((packed));

#define SEV_IOC_TYPE  'S'
#define SEV_ISSUE_CMD _IOWR(SEV_IOC_TYPE, 0x0, struct sev_issue_cmd)

/* ================= /dev/sev-guest (in the guest) ================= */

#define SNP_REPORT_USER_DATA_SIZE 64

/* MSG_REPORT_REQ (SNP ABI, guest messages: MSG_REPORT_REQ) */
struct snp_report_req {
	__u8 user_data[SNP_REPORT_USER_DATA_SIZE];
	__u32 vmpl;
	__u8 rsvd[28];
};

/* MSG_REPORT_RSP: status, report size, reserved, then the report */
struct snp_report_resp {
	__u8 data[4000];
};

struct snp_guest_request_ioctl {
	__u8 msg_version; /* 1 */
	__u64 req_data;
	__u64 resp_data;
	union {
		__u64 exitinfo2;
		struct {
			__u32 fw_error;
			__u32 vmm_error;
		};
	};
};

/* SNP_GET_EXT_REPORT: the report plus the host's certificate table */
struct snp_ext_report_req {
	struct snp_report_req data;
	__u64 certs_address;
	__u32 certs_len; /* in: buffer size; out: needed size with SNP_GUEST_VMM_ERR_INVALID_LEN */
};

#define SNP_GUEST_REQ_IOC_TYPE 'S'
#define SNP_GET_REPORT     _IOWR(SNP_GUEST_REQ_IOC_TYPE, 0x0, struct snp_guest_request_ioctl)
#define SNP_GET_EXT_REPORT _IOWR(SNP_GUEST_REQ_IOC_TYPE, 0x2, struct snp_guest_request_ioctl)

#define SNP_GUEST_VMM_ERR_SHIFT       32
#define SNP_GUEST_VMM_ERR_INVALID_LEN 1
#define SNP_GUEST_VMM_ERR_BUSY        2

#endif
