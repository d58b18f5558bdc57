/* Benchmark: MRTD of a real TDVF image against plain SHA-384 over the same
 * bytes (the concatenated 128-byte records and 256-byte chunks, laid out in
 * memory beforehand). The ratio is the cost of building the records on the
 * fly; goal <= 1.5. Run from the repository root (make bench). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bench/bench.h"
#include "common/common.h"
#include "firmware/firmware.h"
#include "tdx/tdx.h"

#define FIRMWARE "tests/fixtures/measure/firmware/OVMF.inteltdx.ms-2026.08+ds-2.fd"
#define ROUNDS   7

static uint8_t *put_record(uint8_t *p, const char *name, uint64_t gpa)
{
	memset(p, 0, 128);
	memcpy(p, name, strlen(name));
	put_le64(p + 16, gpa);
	return p + 128;
}

/* The single-pass record stream, materialised. */
static size_t serialise(const struct launch_plan *plan, uint8_t *out)
{
	uint8_t *p = out;

	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_step *st = &plan->steps[i];

		for (uint64_t off = 0; off < st->len; off += 4096) {
			if (!(st->flags & PLAN_F_AUG))
				p = put_record(p, "MEM.PAGE.ADD", st->gpa + off);
			for (unsigned c = 0; (st->flags & PLAN_F_EXTEND) && c < 4096; c += 256) {
				p = put_record(p, "MR.EXTEND", st->gpa + off + c);
				if (st->data)
					memcpy(p, st->data + off + c, 256);
				else
					memset(p, 0, 256);
				p += 256;
			}
		}
	}
	return (size_t)(p - out);
}

int main(void)
{
	struct fw_image fw;
	static struct tdvf_metadata md;
	struct launch_plan plan = {0};
	uint8_t a[TDX_MR_SIZE], b[TDX_MR_SIZE];
	unsigned int l;
	double t_mrtd = 1e9, t_sha = 1e9;
	size_t max = 0, n;
	uint8_t *stream;

	if (fw_load(FIRMWARE, &fw) || fw_tdvf_parse(&fw, &md) || tdx_plan_build(&fw, &md, 2ull << 30, &plan)) {
		fprintf(stderr, "bench_mrtd: %s\n", err_msg());
		return 2;
	}
	for (size_t i = 0; i < plan.n; i++)
		max += plan.steps[i].len / 4096 * (128 + 16 * 384);
	stream = malloc(max);
	if (!stream)
		return 2;
	n = serialise(&plan, stream);
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = bench_wall();

		if (tdx_mrtd(&plan, TDX_MRTD_SINGLE_PASS, NULL, a)) {
			fprintf(stderr, "bench_mrtd: %s\n", err_msg());
			return 2;
		}
		double t1 = bench_wall();
		EVP_Digest(stream, n, b, &l, EVP_sha384(), NULL);
		double t2 = bench_wall();
		bench_keep_min(&t_mrtd, t1 - t0);
		bench_keep_min(&t_sha, t2 - t1);
	}
	if (memcmp(a, b, sizeof(a))) {
		fprintf(stderr, "bench_mrtd: MRTD differs from SHA-384 of the serialised records\n");
		return 1;
	}
	printf("tdx/mrtd: %.2f MiB of records, mrtd %.2f ms, sha384 %.2f ms (best of %d)\n", n / 1048576.0,
	       t_mrtd * 1e3, t_sha * 1e3, ROUNDS);
	printf("tdx/mrtd = %.2f (goal <= 1.5)\n", t_mrtd / t_sha);
	free(stream);
	plan_free(&plan);
	fw_free(&fw);
	return 0;
}
