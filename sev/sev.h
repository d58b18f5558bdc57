/* sev.h - AMD SEV, SEV-ES and SEV-SNP: VMSA construction, launch digests,
 * and (later) the KVM backend and the sim secure processor. */
#ifndef CVMM_SEV_H
#define CVMM_SEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/firmware.h"

/* `cvmm measure` (all platforms; hands --platform tdx to tdx_cli_measure). */
int sev_cli_measure(int argc, char **argv);
/* `cvmm run --platform snp` (sev/snp_run_cli.c): the KVM backend, or with
 * --dry-run FILE the launch recorded against the ioctl stand-in. */
int sev_cli_run(int argc, char **argv);

enum sev_mode {
	SEV_MODE_SEV,    /* SHA-256 over LAUNCH_UPDATE_DATA */
	SEV_MODE_SEV_ES, /* ... plus LAUNCH_UPDATE_VMSA */
	SEV_MODE_SNP,    /* SHA-384 PAGE_INFO chain (SNP ABI, SNP_LAUNCH_UPDATE) */
};

/* Which VMM's initial vCPU state to reproduce (sev-snp-measure --vmm-type). */
enum sev_vmm_type {
	SEV_VMM_QEMU,
	SEV_VMM_EC2,
	SEV_VMM_GCE,
};

#define SEV_MAX_VCPUS   512 /* the range cvmm launches (and sev-snp-measure users expect); more is refused */
#define SEV_PAGE_SIZE   4096u
#define SNP_DIGEST_LEN  48u
#define SEV_DIGEST_LEN  32u
/* The RMP records VMSA pages at GPA (u64)-1, page aligned, bits above 51
 * cleared (what the secure processor puts in PAGE_INFO). */
#define SNP_VMSA_GPA    0xFFFFFFFFF000ull

/* Parse "qemu" / "ec2" / "gce" (case-insensitive). */
int sev_vmm_type_parse(const char *s, enum sev_vmm_type *t);
const char *sev_vmm_type_name(enum sev_vmm_type t);

/* CPUID Fn0000_0001_EAX signature (AMD CPUID spec #25481). */
uint32_t sev_cpu_sig(unsigned family, unsigned model, unsigned stepping);
/* QEMU vCPU model name (EPYC, EPYC-v4, EPYC-Milan, ...) to its signature;
 * case-insensitive. -EINVAL with a message naming the type if unknown. */
int sev_vcpu_type_sig(const char *name, uint32_t *sig);

/* Build one 4 KiB VMSA page (AMD APM vol. 2, table B-4, the SEV-ES save area)
 * as the VMM sets it up at reset: eip 0xfffffff0 for the BSP, the SEV-ES reset
 * block address for APs; vcpu_sig goes into RDX (QEMU). */
void sev_vmsa_build(uint8_t page[SEV_PAGE_SIZE], uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig,
		    enum sev_vmm_type vmm);
#define SEV_BSP_EIP 0xfffffff0u

/* A vCPU's architectural state as the VMSA holds it (the fields a VMM sets
 * at launch; APM vol. 2 table B-4 offsets in vmsa.c). Segment attrib is the
 * VMCB encoding: type | S<<4 | DPL<<5 | P<<7 | AVL<<8 | L<<9 | DB<<10 | G<<11. */
struct sev_seg {
	uint16_t selector, attrib;
	uint32_t limit;
	uint64_t base;
};
struct sev_cpu_state {
	struct sev_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
	uint64_t efer, cr0, cr3, cr4, dr6, dr7, rflags, rip;
	uint64_t rax, rbx, rcx, rdx, rsp, rbp, rsi, rdi;
	uint64_t g_pat, xcr0, sev_features;
	uint32_t mxcsr;
	uint16_t x87_fcw;
};
/* Write s into a zeroed VMSA page / read it back (what a backend loads). */
void sev_vmsa_encode(uint8_t page[SEV_PAGE_SIZE], const struct sev_cpu_state *s);
void sev_vmsa_decode(const uint8_t page[SEV_PAGE_SIZE], struct sev_cpu_state *s);

/* Inputs of a launch measurement. */
struct sev_launch_cfg {
	enum sev_mode mode;
	unsigned vcpus;                  /* SEV-ES, SNP */
	uint32_t vcpu_sig;
	uint64_t guest_features;         /* SNP: VMSA SEV_FEATURES */
	enum sev_vmm_type vmm;
	const struct fw_image *fw;
	const struct fw_sev_info *info;  /* from fw_sev_parse(fw) */
	const struct fw_sev_hashes *hashes; /* measured direct boot, or NULL */
};

/* Build the launch plan: firmware, (SNP) metadata sections, the SEV hashes
 * table, VMSAs (plan steps of kind PLAN_VMSA carry .vcpu). The plan points
 * into cfg->fw's data; free it with plan_free(). */
int sev_plan_build(const struct sev_launch_cfg *cfg, struct launch_plan *plan);

/* SNP: the firmware's SEV metadata sections as plan steps (in metadata
 * order; EC2 puts the CPUID page last). */
int sev_snp_sections(const struct sev_launch_cfg *cfg, struct launch_plan *plan);

/* ---------------- SNP with an SVSM (sev/svsm.c) ---------------- */
#define SVSM_GUID_INFO "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd"
struct sev_svsm_cfg {
	unsigned vcpus;
	uint32_t vcpu_sig;
	const struct fw_image *ovmf;     /* at 4 GiB - size */
	const struct fw_image *svsm;     /* base_gpa from sev_svsm_place() */
	const struct fw_sev_info *svsm_info; /* fw_sev_parse(svsm) after placing it */
};
/* Put the SVSM right below the OVMF variables store (vars_size bytes below
 * the OVMF image), as QEMU maps the flash devices. */
int sev_svsm_place(const struct fw_image *ovmf, uint64_t vars_size, struct fw_image *svsm);
/* The SVSM's entry point (SVSM_INFO footer entry + its base). */
int sev_svsm_entry(const struct fw_image *svsm, uint32_t *eip);
/* The VMSA every vCPU starts with: 32-bit flat protected mode at eip. */
void sev_svsm_vmsa_build(uint8_t page[SEV_PAGE_SIZE], uint32_t eip, uint32_t vcpu_sig);
/* OVMF pages, SVSM pages, the SVSM's metadata sections, one VMSA per vCPU. */
int sev_svsm_plan_build(const struct sev_svsm_cfg *cfg, struct launch_plan *plan);

/* Called after each folded step with the running digest (for --trace). */
typedef void (*sev_trace_fn)(void *ctx, size_t index, const struct plan_step *s, const uint8_t *digest,
			     size_t digest_len);

/* SNP: fold steps [from, n) into the PAGE_INFO chain (SNP ABI, "PAGE_INFO"),
 * starting at seed (48 zero bytes when NULL; --snp-ovmf-hash otherwise). */
int snp_digest_fold(const struct launch_plan *p, size_t from, const uint8_t *seed, uint8_t out[SNP_DIGEST_LEN],
		    sev_trace_fn trace, void *trace_ctx);
/* SEV / SEV-ES: SHA-256 over the bytes of every step, in order. */
int sev_digest_fold(const struct launch_plan *p, uint8_t out[SEV_DIGEST_LEN], sev_trace_fn trace, void *trace_ctx);

/* ---------------- SNP ID block (sev/id_block.c) ----------------
 * SNP ABI spec, SNP_LAUNCH_FINISH: ID_BLOCK (96 bytes) and ID_AUTH_INFO
 * (4096 bytes) with ECDSA P-384/SHA-384 signatures {R, S little-endian, 72
 * bytes each, reserved to 512} and public keys {u32 curve = 2, QX, QY
 * little-endian, 72 bytes each, reserved to 1028}. */
#define SNP_ID_BLOCK_LEN   96u
#define SNP_ID_AUTH_LEN    4096u
#define SNP_SIG_LEN        512u
#define SNP_AMD_PUBKEY_LEN 1028u
#define SNP_ID_BLOCK_DEFAULT_POLICY 0x30000ull /* sev-snp-measure's: SMT allowed, reserved bit 17 */

/* `cvmm id-block`: print the ID block and ID auth for QEMU. */
int sev_cli_id_block(int argc, char **argv);

struct snp_id_block {
	uint8_t ld[SNP_DIGEST_LEN];
	uint8_t family_id[16], image_id[16];
	uint32_t guest_svn;
	uint64_t policy;
};
struct snp_id_auth {
	uint8_t auth[SNP_ID_AUTH_LEN];
	uint8_t id_key_digest[48];      /* SHA-384 of the ID key (AMD format): report ID_KEY_DIGEST */
	uint8_t author_key_digest[48];  /* ... of the author key: report AUTHOR_KEY_DIGEST */
	bool author_key_en;
};
typedef struct evp_pkey_st EVP_PKEY;
void snp_id_block_encode(const struct snp_id_block *b, uint8_t out[SNP_ID_BLOCK_LEN]);
/* Sign the block with id_key, the ID key with author_key (NULL: none). */
int snp_id_auth_build(const uint8_t block[SNP_ID_BLOCK_LEN], EVP_PKEY *id_key, EVP_PKEY *author_key,
		      struct snp_id_auth *a);
/* A P-384 public key in AMD's format; what names the key in errors. */
int snp_amd_pubkey(EVP_PKEY *key, const char *what, uint8_t out[SNP_AMD_PUBKEY_LEN]);
/* ECDSA P-384 with SHA-384 over data, in AMD's signature format. */
int snp_sign(EVP_PKEY *key, const char *what, const uint8_t *data, size_t len, uint8_t out[SNP_SIG_LEN]);

/* ---------------- SNP CPUID page ----------------
 * SNP Firmware ABI spec, "CPUID Function Table" (Linux struct
 * snp_cpuid_table): u32 count, 12 reserved bytes, then up to 64 entries of
 * { u32 eax_in, ecx_in; u64 xcr0_in, xss_in; u32 eax, ebx, ecx, edx;
 * u64 reserved } (48 bytes). */
#define SNP_CPUID_MAX 64
struct snp_cpuid_fn {
	uint32_t eax_in, ecx_in;
	uint64_t xcr0_in, xss_in;
	uint32_t eax, ebx, ecx, edx;
};
/* Write n entries into a 4 KiB page (zeroed first); -E2BIG above SNP_CPUID_MAX. */
int snp_cpuid_page_encode(uint8_t page[SEV_PAGE_SIZE], const struct snp_cpuid_fn *fn, size_t n);

/* ---------------- sim-snp: the software secure processor (sim_*.c) ----------------
 * Holds a simulated ARK (RSA-4096, RSA-PSS) -> ASK -> VCEK (ECDSA P-384,
 * with AMD's hwID and TCB extensions) chain in a state directory (created
 * on first use, files 0600, reused), and signs ATTESTATION_REPORTs in the
 * real format (SNP ABI Table 23, version 3) for the launch it was given.
 * Thread-safe: the VMM's sim channel thread and tests call it. */
struct snp_sim;

struct snp_sim_launch {
	uint8_t measurement[SNP_DIGEST_LEN]; /* folded from the plan that was loaded */
	uint64_t policy;                     /* guest policy (--policy) */
	uint8_t host_data[32];               /* SHA-256 of the device manifest DTB */
	uint8_t family_id[16], image_id[16]; /* from the ID block, zero without one */
	uint8_t id_key_digest[48], author_key_digest[48];
	uint32_t guest_svn;
	bool author_key_en;
};

/* The default state directory: $XDG_STATE_HOME/cvmm/sim-snp, else
 * $HOME/.local/state/cvmm/sim-snp (malloc'ed). */
char *snp_sim_default_dir(void);
/* Open (creating on first use) the key store in dir (NULL = the default). */
int snp_sim_open(const char *dir, struct snp_sim **out);
void snp_sim_close(struct snp_sim *sp);
/* Record the launch (a new random REPORT_ID each time). */
int snp_sim_launch(struct snp_sim *sp, const struct snp_sim_launch *l);
/* Sign a report for report_data at vmpl (0..3) into out (1184 bytes). */
int snp_sim_report(struct snp_sim *sp, const uint8_t report_data[64], uint32_t vmpl, uint8_t out[0x4A0]);
/* The extended-report certificate table (GUID table: VCEK, ASK, ARK; SNP
 * ABI / GHCB spec "SNP Extended Guest Request"), malloc'ed. */
int snp_sim_cert_table(struct snp_sim *sp, uint8_t **out, size_t *len);
/* The ARK certificate (PEM, malloc'ed): what `--root FILE` pins. */
int snp_sim_ark_pem(struct snp_sim *sp, char **pem, size_t *len);

/* The sim channel: how a guest reaches the sim secure processor, as a real
 * SNP guest reaches the PSP through the host (docs/attestation.md). The VMM
 * listens on vsock port SNP_SIM_PORT_BASE + guest CID (so several sim guests
 * share a host) and answers only its own guest's CID. */
#define SNP_SIM_PORT_BASE 0x40000000u
struct snp_sim_channel;
/* addr: "vsock:PORT" (accepting only peer CID guest_cid) or "unix:PATH". */
int snp_sim_channel_start(struct snp_sim *sp, const char *addr, uint32_t guest_cid,
			  struct snp_sim_channel **out);
void snp_sim_channel_stop(struct snp_sim_channel *ch);
/* If set, called first thing in the channel's thread, before it accepts
 * anything (cvmm run installs the thread's seccomp filter: vmm/confine). */
extern void (*snp_sim_channel_thread_hook)(void);

/* The sim channel's transport, shared by sim-snp and sim-tdx (sim_server.c):
 * a thread accepting on "vsock:PORT" (peer CID guest_cid only) or
 * "unix:PATH" and handing each connection to serve until it returns false. */
struct sim_server;
typedef bool (*sim_serve_fn)(void *ctx, struct sim_server *s, int fd);
int sim_server_start(const char *addr, uint32_t guest_cid, sim_serve_fn serve, void *ctx, void (*thread_hook)(void),
		     struct sim_server **out);
void sim_server_stop(struct sim_server *s);
/* Exactly n bytes (false on EOF, error, a 5 s stall or a stop request). */
bool sim_server_read(struct sim_server *s, int fd, uint8_t *buf, size_t n);
bool sim_server_write(int fd, const uint8_t *p, size_t n);

#endif
