/* Benchmark: `cvmm measure --platform snp` on the 4 MiB AmdSev firmware with
 * the fixture kernel and initrd, against plain SHA-384 over the same number
 * of bytes, both measured here in the same run (best of several rounds, so
 * a busy machine disturbs both alike; thread CPU time). Files are read once
 * beforehand: the ratio compares computation only.
 *
 * Also prints the firmware pages alone (PAGE_INFO chain vs SHA-384 of the
 * image), which isolates the cost of the per-page folding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bench/bench.h"
#include "common/common.h"
#include "firmware/firmware.h"
#include "sev/sev.h"

#define FIX "tests/fixtures/measure/"
#define ROUNDS 21

struct inputs {
	struct fw_image fw;
	uint8_t *k, *i;
	size_t klen, ilen;
};

/* Everything `cvmm measure` computes after reading its files. */
static int measure(const struct inputs *in, bool with_kernel, uint8_t out[SNP_DIGEST_LEN])
{
	struct fw_sev_info info;
	struct fw_sev_hashes h;
	struct launch_plan plan;
	struct sev_launch_cfg cfg = { .mode = SEV_MODE_SNP, .vcpus = 2, .vcpu_sig = 0x800f12, .guest_features = 1,
				      .vmm = SEV_VMM_QEMU, .fw = &in->fw, .info = &info };
	int ret = fw_sev_parse(&in->fw, &info);

	if (!ret && with_kernel) {
		ret = fw_sev_hashes_compute(in->k, in->klen, in->i, in->ilen, "console=ttyS0", &h);
		cfg.hashes = &h;
	}
	if (!ret)
		ret = sev_plan_build(&cfg, &plan);
	if (ret)
		return ret;
	ret = snp_digest_fold(&plan, 0, NULL, out, NULL, NULL);
	plan_free(&plan);
	return ret;
}

static double time_measure(const struct inputs *in, bool with_kernel)
{
	uint8_t d[SNP_DIGEST_LEN];
	double t = bench_cpu();

	if (measure(in, with_kernel, d)) {
		fprintf(stderr, "bench_measure_snp: %s\n", err_msg());
		exit(1);
	}
	return bench_cpu() - t;
}

static double time_sha384(const uint8_t *buf, size_t n)
{
	uint8_t d[64];
	double t = bench_cpu();

	if (!EVP_Digest(buf, n, d, NULL, EVP_sha384(), NULL))
		exit(1);
	return bench_cpu() - t;
}

/* Best of ROUNDS for each, interleaved so that load from other processes
 * hits both sides alike. */
static void compare(const struct inputs *in, bool with_kernel, const uint8_t *buf, size_t n, double *m, double *b)
{
	*m = *b = 1e9;
	for (int r = 0; r < ROUNDS; r++) {
		double tm = time_measure(in, with_kernel), tb = time_sha384(buf, n);

		bench_keep_min(m, tm);
		bench_keep_min(b, tb);
	}
}

int main(void)
{
	struct inputs in;
	uint8_t *all;
	size_t total;
	double m, b;

	if (fw_load(FIX "firmware/OVMF.amdsev-2026.08+ds-2.fd", &in.fw) ||
	    file_read(FIX "boot/vmlinuz-6.1.0-56-cloud-amd64", 1u << 30, &in.k, &in.klen) ||
	    file_read(FIX "boot/initrd-fixture.cpio.gz", 1u << 30, &in.i, &in.ilen)) {
		fprintf(stderr, "bench_measure_snp: %s (run from the repository root)\n", err_msg());
		return 1;
	}
	total = in.fw.size + in.klen + in.ilen;
	all = malloc(total);
	if (!all)
		return 1;
	memcpy(all, in.fw.data, in.fw.size);
	memcpy(all + in.fw.size, in.k, in.klen);
	memcpy(all + in.fw.size + in.klen, in.i, in.ilen);

	/* the first round also warms caches and the OpenSSL method store */
	compare(&in, true, all, total, &m, &b);
	printf("measure/snp amdsev+kernel+initrd (%zu bytes): cvmm %.2f ms, sha384 %.2f ms\n", total, m * 1e3,
	       b * 1e3);
	printf("measure/sha384 = %.2f (goal <= 1.2)\n", m / b);
	compare(&in, false, in.fw.data, in.fw.size, &m, &b);
	printf("measure/snp firmware pages only (%zu bytes): cvmm %.2f ms, sha384 %.2f ms\n", in.fw.size, m * 1e3,
	       b * 1e3);
	printf("measure-firmware/sha384 = %.2f (goal <= 1.2)\n", m / b);
	free(all);
	free(in.k);
	free(in.i);
	fw_free(&in.fw);
	return 0;
}
