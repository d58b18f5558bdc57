/* backend_snp.h - internal to sev/: the SEV-SNP KVM backend (backend_snp.c). */
#ifndef CVMM_SEV_BACKEND_SNP_H
#define CVMM_SEV_BACKEND_SNP_H

#include <stdbool.h>
#include <stdint.h>

#include "sev.h"
#include "vmm/ioctl_rec.h"

struct snp_launch_req {
	const struct launch_plan *plan; /* sev_plan_build(SEV_MODE_SNP) */
	uint64_t mem;                   /* guest RAM bytes */
	unsigned vcpus;
	uint64_t guest_features;        /* SEV_FEATURES of the VMSAs (bit 0 SNPActive) */
	uint64_t policy;
	const uint8_t *id_block;        /* KVM_SEV_SNP_ID_BLOCK_SIZE bytes, or NULL */
	const uint8_t *id_auth;         /* KVM_SEV_SNP_ID_AUTH_SIZE bytes, or NULL */
	bool author_key_en;
	uint8_t host_data[32];
};

struct snp_vm;
/* Launch through io up to and including SNP_LAUNCH_FINISH (never KVM_RUN).
 * On error everything made so far is released and err_msg() names the
 * step, the ioctl and the firmware error code. */
int snp_backend_launch(struct cc_io *io, const struct snp_launch_req *req, struct snp_vm **out);
void snp_backend_release(struct snp_vm *vm);

/* Set vCPU fd's registers so that the VMSA KVM builds from them equals
 * vmsa (SNP and SEV-ES); who starts the error message. */
int sev_vcpu_load(struct cc_io *io, const char *who, unsigned index, int fd, const uint8_t *vmsa, uint64_t features);

/* ---------------- SEV and SEV-ES (backend_sev.c) ---------------- */
struct sev_launch_req {
	const struct launch_plan *plan; /* sev_plan_build(SEV_MODE_SEV or SEV_MODE_SEV_ES) */
	enum sev_mode mode;
	uint64_t mem;
	unsigned vcpus;
	uint32_t policy;
	/* the guest owner's launch session for LAUNCH_START (both or neither):
	 * its PDH certificate and session blob (SEV API LAUNCH_START) */
	const uint8_t *dh_cert, *session;
	size_t dh_cert_len, session_len;
	/* --launch-secret: KVM_SEV_LAUNCH_SECRET after LAUNCH_MEASURE, before
	 * LAUNCH_FINISH; packet header (SEV_LAUNCH_SECRET_HDR_LEN bytes), the
	 * encrypted secret, and where it goes in the guest */
	const uint8_t *secret_hdr, *secret;
	size_t secret_len;
	uint64_t secret_gpa;
};
#define SEV_LAUNCH_SECRET_HDR_LEN 52 /* SEV API PACKET_HEADER: FLAGS 4, IV 16, MAC 32 */
/* OVMF's SEV secret area (footer GUID table entry: u32 base, u32 size;
 * OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm SEV_LAUNCH_SECRET_BLOCK) */
#define FW_GUID_SEV_SECRET "4c2eb361-7d9b-4cc3-8081-127c90d3d294"
struct sev_vm;
/* Launch through io up to LAUNCH_FINISH; measurement receives what
 * KVM_SEV_LAUNCH_MEASURE returned (48 bytes: HMAC-SHA-256 and mnonce). */
int sev_backend_launch(struct cc_io *io, const struct sev_launch_req *req, uint8_t measurement[48], struct sev_vm **out);
void sev_backend_release(struct sev_vm *vm);

/* The launched VMs as the run loop (vmm/cc_run.c) sees them. */
void snp_backend_view(struct snp_vm *vm, struct cc_vm_view *out);
void sev_backend_view(struct sev_vm *vm, struct cc_vm_view *out);

#endif
