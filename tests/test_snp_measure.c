/* Unit tests: SEV/SEV-ES/SNP launch digests against
 * tests/fixtures/measure/snp-expected.tsv (values from virtee/sev-snp-measure),
 * plus the pieces: CPU signatures, VMSA layout, PAGE_INFO folding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/common.h"
#include "firmware/firmware.h"
#include "sev/sev.h"

#define FIX "tests/fixtures/measure/"

/* One TSV row computed through the library (the same path as the CLI). */
static int measure_row(char **col, uint8_t *digest, size_t *dlen)
{
	struct sev_launch_cfg cfg = { .vmm = SEV_VMM_QEMU, .guest_features = 1 };
	struct fw_image fw;
	struct fw_sev_info info;
	struct fw_sev_hashes hashes;
	struct launch_plan plan = {0};
	uint8_t *k = NULL, *i = NULL;
	size_t klen = 0, ilen = 0;
	char path[512], append[256];
	int ret;

	if (!strcmp(col[0], "snp"))
		cfg.mode = SEV_MODE_SNP;
	else if (!strcmp(col[0], "seves"))
		cfg.mode = SEV_MODE_SEV_ES;
	else
		cfg.mode = SEV_MODE_SEV;
	if (strcmp(col[1], "-"))
		cfg.vcpus = (unsigned)atoi(col[1]);
	if (strcmp(col[2], "-"))
		assert_int_equal(sev_vcpu_type_sig(col[2], &cfg.vcpu_sig), 0);
	if (strcmp(col[3], "-"))
		cfg.guest_features = strtoull(col[3], NULL, 0);
	if (strcmp(col[4], "-"))
		assert_int_equal(sev_vmm_type_parse(col[4], &cfg.vmm), 0);
	snprintf(path, sizeof(path), FIX "%s", col[5]);
	assert_int_equal(fw_load(path, &fw), 0);
	assert_int_equal(fw_sev_parse(&fw, &info), 0);
	if (strcmp(col[6], "-")) {
		const char *cmdline = NULL;

		snprintf(path, sizeof(path), FIX "%s", col[6]);
		assert_int_equal(file_read(path, 1u << 30, &k, &klen), 0);
		if (strcmp(col[7], "-")) {
			snprintf(path, sizeof(path), FIX "%s", col[7]);
			assert_int_equal(file_read(path, 1u << 30, &i, &ilen), 0);
		}
		/* append is a JSON string without escapes in the fixture */
		if (strcmp(col[8], "-")) {
			size_t n = strlen(col[8]);

			assert_true(n >= 2 && col[8][0] == '"' && col[8][n - 1] == '"' && n - 2 < sizeof(append));
			memcpy(append, col[8] + 1, n - 2);
			append[n - 2] = 0;
			cmdline = append;
		}
		assert_int_equal(fw_sev_hashes_compute(k, klen, i, ilen, cmdline, &hashes), 0);
		cfg.hashes = &hashes;
	}
	cfg.fw = &fw;
	cfg.info = &info;
	ret = sev_plan_build(&cfg, &plan);
	if (!ret && cfg.mode == SEV_MODE_SNP) {
		*dlen = SNP_DIGEST_LEN;
		ret = snp_digest_fold(&plan, 0, NULL, digest, NULL, NULL);
	} else if (!ret) {
		*dlen = SEV_DIGEST_LEN;
		ret = sev_digest_fold(&plan, digest, NULL, NULL);
	}
	plan_free(&plan);
	fw_free(&fw);
	free(k);
	free(i);
	return ret;
}

static void test_expected_tsv(void **state)
{
	uint8_t *tsv;
	size_t len, rows = 0;
	char *save = NULL, *line;

	(void)state;
	assert_int_equal(file_read(FIX "snp-expected.tsv", 1 << 20, &tsv, &len), 0);
	line = strtok_r((char *)tsv, "\n", &save); /* header */
	assert_non_null(line);
	assert_non_null(strstr(line, "expected_digest_hex"));
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *col[10], *s2 = NULL, *f;
		int n = 0;
		uint8_t digest[SNP_DIGEST_LEN];
		char hex[2 * SNP_DIGEST_LEN + 1];
		size_t dlen = 0;

		/* fields are never empty, so strtok's merging of tabs is harmless */
		for (f = strtok_r(line, "\t", &s2); f && n < 10; f = strtok_r(NULL, "\t", &s2))
			col[n++] = f;
		assert_int_equal(n, 10);
		if (measure_row(col, digest, &dlen))
			fail_msg("row %zu: %s", rows + 1, err_msg());
		hex_encode(digest, dlen, hex);
		if (strcmp(hex, col[9]))
			fail_msg("row %zu (%s %s vcpus %s %s): got %s want %s", rows + 1, col[0], col[5], col[1], col[4],
				 hex, col[9]);
		rows++;
	}
	assert_int_equal(rows, 16);
	free(tsv);
}

static void test_cpu_sigs(void **state)
{
	uint32_t sig;

	(void)state;
	assert_int_equal(sev_vcpu_type_sig("EPYC-v4", &sig), 0);
	assert_int_equal(sig, 0x800f12);
	assert_int_equal(sev_vcpu_type_sig("EPYC-Rome", &sig), 0);
	assert_int_equal(sig, 0x830f10);
	assert_int_equal(sev_vcpu_type_sig("epyc-milan-v2", &sig), 0);
	assert_int_equal(sig, 0xa00f11);
	assert_int_equal(sev_vcpu_type_sig("EPYC-Genoa", &sig), 0);
	assert_int_equal(sig, 0xa10f10);
	assert_int_equal(sev_vcpu_type_sig("EPYC-Turin", &sig), 0);
	assert_int_equal(sig, 0xb00f00);
	assert_int_equal(sev_cpu_sig(25, 1, 1), 0xa00f11);
	assert_int_equal(sev_cpu_sig(6, 0x8f, 8), 0x806f8); /* family <= 0xf: no extended family */
	assert_int_equal(sev_vcpu_type_sig("EPYC-Zen9", &sig), -EINVAL);
	assert_non_null(strstr(err_msg(), "unknown vCPU type 'EPYC-Zen9'"));
}

static void test_vmm_types(void **state)
{
	enum sev_vmm_type t;

	(void)state;
	assert_int_equal(sev_vmm_type_parse("QEMU", &t), 0);
	assert_int_equal(t, SEV_VMM_QEMU);
	assert_int_equal(sev_vmm_type_parse("Ec2", &t), 0);
	assert_int_equal(t, SEV_VMM_EC2);
	assert_int_equal(sev_vmm_type_parse("gce", &t), 0);
	assert_int_equal(t, SEV_VMM_GCE);
	assert_int_equal(sev_vmm_type_parse("xen", &t), -EINVAL);
}

/* Offsets from AMD APM vol. 2 table B-4. */
static void test_vmsa_layout(void **state)
{
	uint8_t p[SEV_PAGE_SIZE];

	(void)state;
	sev_vmsa_build(p, SEV_BSP_EIP, 0x21, 0x800f12, SEV_VMM_QEMU);
	assert_int_equal(le16(p + 0x10), 0xf000);       /* cs.selector */
	assert_int_equal(le16(p + 0x12), 0x9b);         /* cs.attrib */
	assert_int_equal(le64(p + 0x18), 0xffff0000);   /* cs.base */
	assert_int_equal(le64(p + 0x178), 0xfff0);      /* rip */
	assert_int_equal(le64(p + 0xd0), 0x1000);       /* efer */
	assert_int_equal(le64(p + 0x310), 0x800f12);    /* rdx */
	assert_int_equal(le64(p + 0x3b0), 0x21);        /* sev_features */
	assert_int_equal(le64(p + 0x268), 0x0007040600070406ull); /* g_pat */
	assert_int_equal(le32(p + 0x408), 0x1f80);      /* mxcsr */
	assert_int_equal(le16(p + 0x410), 0x37f);       /* x87 fcw */
	/* AP entry from the SEV-ES reset block: 0x80b004 -> base 0x800000 ip 0xb004 */
	sev_vmsa_build(p, 0x80b004, 1, 0x800f12, SEV_VMM_EC2);
	assert_int_equal(le64(p + 0x18), 0x800000);
	assert_int_equal(le64(p + 0x178), 0xb004);
	assert_int_equal(le16(p + 0x12), 0x9b);         /* ec2: only the BSP's CS is 0x9a */
	assert_int_equal(le64(p + 0x310), 0x600);
	assert_int_equal(le32(p + 0x408), 0);
	sev_vmsa_build(p, SEV_BSP_EIP, 1, 0x800f12, SEV_VMM_EC2);
	assert_int_equal(le16(p + 0x12), 0x9a);
	sev_vmsa_build(p, SEV_BSP_EIP, 1, 0x800f12, SEV_VMM_GCE);
	assert_int_equal(le64(p + 0x268), 0x00070106);
}

/* One zero page and one normal page folded by hand with EVP. */
static void test_page_info_fold(void **state)
{
	static uint8_t page[SEV_PAGE_SIZE];
	uint8_t info[0x70] = {0}, want0[48], want[48], got[48];
	struct launch_plan plan = {0};
	struct plan_step z = { .gpa = 0x800000, .len = 4096, .kind = PLAN_ZERO, .vcpu = -1 };
	struct plan_step n = { .gpa = 0x801000, .len = 4096, .kind = PLAN_NORMAL, .data = page, .vcpu = -1 };
	unsigned int l;

	(void)state;
	memset(page, 0xa5, sizeof(page));
	info[96] = 0x70, info[98] = 3;
	put_le64(info + 104, 0x800000);
	assert_true(EVP_Digest(info, sizeof(info), want0, &l, EVP_sha384(), NULL));
	memcpy(info, want0, 48);
	assert_true(EVP_Digest(page, sizeof(page), info + 48, &l, EVP_sha384(), NULL));
	info[98] = 1;
	put_le64(info + 104, 0x801000);
	assert_true(EVP_Digest(info, sizeof(info), want, &l, EVP_sha384(), NULL));
	assert_int_equal(plan_add(&plan, &z), 0);
	assert_int_equal(plan_add(&plan, &n), 0);
	assert_int_equal(snp_digest_fold(&plan, 0, NULL, got, NULL, NULL), 0);
	assert_memory_equal(got, want, 48);
	/* seeding with the digest after step 0 and folding from step 1 agrees */
	memset(got, 0, sizeof(got));
	assert_int_equal(snp_digest_fold(&plan, 1, want0, got, NULL, NULL), 0);
	assert_memory_equal(got, want, 48);
	plan.steps[0].kind = PLAN_TD_HOB;
	assert_int_equal(snp_digest_fold(&plan, 0, NULL, got, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err_msg(), "not an SNP page type"));
	plan_free(&plan);
}

static void test_hashes_table(void **state)
{
	struct fw_sev_hashes h, back;
	uint8_t t[FW_SEV_HASHES_PADDED_LEN];
	uint8_t want[32];
	unsigned int l;

	(void)state;
	assert_int_equal(fw_sev_hashes_compute((const uint8_t *)"K", 1, NULL, 0, NULL, &h), 0);
	assert_true(EVP_Digest("", 1, want, &l, EVP_sha256(), NULL)); /* "\0" */
	assert_memory_equal(h.cmdline, want, 32);
	assert_true(EVP_Digest("", 0, want, &l, EVP_sha256(), NULL));
	assert_memory_equal(h.initrd, want, 32);
	fw_sev_hashes_table(&h, t);
	/* header GUID 9438d606-... in on-disk order, length 168, zero padding */
	assert_int_equal(t[0], 0x06);
	assert_int_equal(t[3], 0x94);
	assert_int_equal(le16(t + 16), 168);
	assert_int_equal(le16(t + 18 + 16), 50);
	for (unsigned i = 168; i < sizeof(t); i++)
		assert_int_equal(t[i], 0);
	assert_int_equal(fw_sev_hashes_parse(t, sizeof(t), "t", &back), 0);
	assert_memory_equal(&back, &h, sizeof(h));
	t[18 + 50 + 16] = 49; /* initrd entry length */
	assert_int_equal(fw_sev_hashes_parse(t, sizeof(t), "t", &back), -EINVAL);
	assert_non_null(strstr(err_msg(), "length 49"));
	assert_int_equal(fw_sev_hashes_parse(t, 100, "t", &back), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_tsv),  cmocka_unit_test(test_cpu_sigs),
		cmocka_unit_test(test_vmm_types),     cmocka_unit_test(test_vmsa_layout),
		cmocka_unit_test(test_page_info_fold), cmocka_unit_test(test_hashes_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
