/* libFuzzer target: the SNP extended report's certificate table parser
 * (attestation/snp_cert_table.c, GHCB "SNP Extended Guest Request") and
 * verification of a fixed report with the table as its chain. Any input
 * must give 0 with every located certificate inside the input, or -errno;
 * never a crash or a read outside the input. Seed: a sim-snp table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/attestation.h"
#include "attestation/snp_report.h"

static void inside(const struct snp_cert_blob *b, const uint8_t *data, size_t size)
{
	if (b->p && (b->p < data || b->len > size || (size_t)(b->p - data) > size - b->len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t report[SNP_REPORT_SIZE];
	struct snp_cert_table t;
	struct att_options o = { .cert_table = data, .cert_table_len = size, .allow_sim = true, .at = 1748736000 };
	struct att_result r;
	int ret = snp_cert_table_parse(data, size, "fuzz", &t);

	if (ret > 0)
		abort();
	if (!ret) {
		inside(&t.vcek, data, size);
		inside(&t.vlek, data, size);
		inside(&t.ask, data, size);
		inside(&t.ark, data, size);
	}
	/* a v3 Milan report signed by nobody: exercises the chain code */
	if (!report[0]) {
		report[0] = 3;
		report[0x34] = 1;
		report[0x188] = 0x19;
		report[0x189] = 0x01;
	}
	if (att_result_init(&r, "snp"))
		return 0;
	att_snp_verify(report, sizeof(report), &o, &r);
	att_result_status(&r);
	att_result_free(&r);
	return 0;
}
