/* Internal to sev/: the `cvmm measure` request between parsing, computing
 * and printing (sev/measure_cli.c, sev/measure_output.c). */
#ifndef CVMM_SEV_MEASURE_H
#define CVMM_SEV_MEASURE_H

#include "common/common.h"
#include "sev.h"

struct measure_req {
	/* inputs */
	enum sev_mode mode;
	bool ovmf_hash_only;            /* --mode snp:ovmf-hash */
	unsigned vcpus;
	const char *vcpu_type;
	uint32_t vcpu_sig;
	bool has_vcpu_sig;
	uint64_t guest_features;
	enum sev_vmm_type vmm;
	const char *firmware, *kernel, *initrd, *append;
	uint8_t ovmf_hash[SNP_DIGEST_LEN];
	bool has_ovmf_hash;
	bool svsm_mode;                 /* --mode snp:svsm */
	const char *svsm, *vars_file;
	uint64_t vars_size;
	/* output */
	bool json, trace, verbose, base64;
	const char *dump_dir;
	/* loaded */
	struct fw_image fw;
	bool fw_loaded;
	struct fw_sev_info info;
	struct fw_image svsm_fw;
	bool svsm_loaded;
	struct fw_sev_info svsm_info;
	uint64_t kernel_len, initrd_len;
	struct fw_sev_hashes hashes;
	struct launch_plan plan;
	/* result */
	uint8_t digest[SNP_DIGEST_LEN];
	size_t digest_len;
};

/* Load the firmware (and hash the boot files) that m names; release all. */
int sev_measure_load(struct measure_req *m);
void sev_measure_release(struct measure_req *m);
int sev_measure_compute(struct measure_req *m);
/* SHA-256 of a file of any kind (regular, character device, FIFO, pipe),
 * streamed: read once, never held whole; more than max bytes is an error. */
int sev_file_sha256(const char *path, uint64_t max, uint8_t out[32], uint64_t *size);
/* The text printed on stdout: digest line (hex/base64, -v) or JSON. */
int sev_measure_format(const struct measure_req *m, struct bytebuf *out);

#endif
