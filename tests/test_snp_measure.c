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
#include <jansson.h>
#include <openssl/evp.h>
#include <unistd.h>

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
	char path[512];
	json_t *append = NULL;
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
		/* append is a JSON string (UTF-8, escapes allowed) */
		if (strcmp(col[8], "-")) {
			append = json_loads(col[8], JSON_DECODE_ANY, NULL);
			assert_true(json_is_string(append));
			cmdline = json_string_value(append);
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
	json_decref(append);
	return ret;
}

static bool fixture_exists(const char *rel)
{
	char path[512];

	if (!strcmp(rel, "-"))
		return true;
	snprintf(path, sizeof(path), FIX "%s", rel);
	return access(path, R_OK) == 0;
}

/* Every row of a TSV (snp-expected.tsv columns) through the library; rows
 * naming a firmware or boot file that is not in tests/fixtures are skipped.
 * Returns the number of rows checked. */
static size_t check_tsv(const char *name)
{
	uint8_t *tsv;
	size_t len, rows = 0, line_no = 1;
	char *save = NULL, *line;

	assert_int_equal(file_read(name, 1 << 20, &tsv, &len), 0);
	line = strtok_r((char *)tsv, "\n", &save); /* header */
	assert_non_null(line);
	assert_non_null(strstr(line, "expected_digest_hex"));
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *col[10], *s2 = NULL, *f;
		int n = 0;
		uint8_t digest[SNP_DIGEST_LEN];
		char hex[2 * SNP_DIGEST_LEN + 1];
		size_t dlen = 0;

		line_no++;
		/* fields are never empty, so strtok's merging of tabs is harmless */
		for (f = strtok_r(line, "\t", &s2); f && n < 10; f = strtok_r(NULL, "\t", &s2))
			col[n++] = f;
		assert_int_equal(n, 10);
		if (!fixture_exists(col[5]) || !fixture_exists(col[6]) || !fixture_exists(col[7]))
			continue;
		if (measure_row(col, digest, &dlen))
			fail_msg("%s line %zu: %s", name, line_no, err_msg());
		hex_encode(digest, dlen, hex);
		if (strcmp(hex, col[9]))
			fail_msg("%s line %zu (%s %s vcpus %s %s): got %s want %s", name, line_no, col[0], col[5], col[1],
				 col[4], hex, col[9]);
		rows++;
	}
	free(tsv);
	return rows;
}

static void test_expected_tsv(void **state)
{
	(void)state;
	assert_int_equal(check_tsv(FIX "snp-expected.tsv"), 16);
}

/* More rows from sev-snp-measure (vCPU counts up to 4096, every vCPU type
 * family, guest features, ec2/gce with kernels, long and UTF-8 command
 * lines): see tests/fixtures/measure/README.md. */
static void test_extra_tsv(void **state)
{
	(void)state;
	assert_true(check_tsv(FIX "snp-extra.tsv") >= 30);
}

/* ---- `cvmm measure` regressions found by the differential run against
 * sev-snp-measure; the CLI runs in-process, stdout captured. ---- */
#define FW_AMD FIX "firmware/OVMF.amdsev-2026.08+ds-2.fd"
#define FW_DEB FIX "firmware/OVMF-2022.11-6+deb12u2.fd"

static char cli_out[4096];

static int cli(const char *first, ...)
{
	const char *argv[40] = { "measure", first };
	int argc = 2, saved, rc;
	FILE *tmp = tmpfile();
	size_t n;
	va_list ap;

	va_start(ap, first);
	while (argc < 39 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0 && dup2(fileno(tmp), 1) == 1);
	rc = sev_cli_measure(argc, (char **)argv);
	fflush(stdout);
	assert_int_equal(dup2(saved, 1), 1);
	close(saved);
	rewind(tmp);
	n = fread(cli_out, 1, sizeof(cli_out) - 1, tmp);
	cli_out[n] = 0;
	fclose(tmp);
	return rc;
}

static void test_cli_numbers(void **state)
{
	static char ten[sizeof(cli_out)], milan[sizeof(cli_out)];

	(void)state;
	/* Python int(): "010" is ten for the decimal counts (never C octal 8) */
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "10", "--vcpu-type", "EPYC", NULL), 0);
	memcpy(ten, cli_out, sizeof(ten));
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "010", "--vcpu-type", "EPYC", NULL), 0);
	assert_string_equal(cli_out, ten);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", " 1_0 ", "--vcpu-type", "EPYC", NULL), 0);
	assert_string_equal(cli_out, ten);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "0xa", "--vcpu-type", "EPYC", NULL), 0);
	assert_string_equal(cli_out, ten);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "1__0", "--vcpu-type", "EPYC", NULL), 2);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "-1", "--vcpu-type", "EPYC", NULL), 2);
	/* family/model/stepping are decimal too: 025/001/01 is EPYC-Milan (25/1/1) */
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "2", "--vcpu-type", "EPYC-Milan", NULL), 0);
	memcpy(milan, cli_out, sizeof(milan));
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "2", "--vcpu-family", "025", "--vcpu-model",
			     "001", "--vcpu-stepping", "01", NULL), 0);
	assert_string_equal(cli_out, milan);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "2", "--vcpu-sig", "0x00_a0_0f_11", NULL), 0);
	assert_string_equal(cli_out, milan);
	/* int(s, 0): 0x/0o/0b prefixes, and a leading zero is an error */
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "2", "--vcpu-type", "EPYC-Milan",
			     "--guest-features", "0b1", NULL), 0);
	assert_string_equal(cli_out, milan);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "2", "--vcpu-type", "EPYC-Milan",
			     "--guest-features", "0o1", NULL), 0);
	assert_string_equal(cli_out, milan);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "2", "--vcpu-type", "EPYC-Milan",
			     "--guest-features", "01", NULL), 2);
	assert_non_null(strstr(err_msg(), "leading zero"));
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "2", "--vcpu-sig", "0a00f11", NULL), 2);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "2", "--vcpu-type", "EPYC-Milan",
			     "--guest-features", "0x10000000000000000", NULL), 2);
	/* the vCPU flags are checked even where SEV ignores them */
	assert_int_equal(cli("--mode", "sev", "--ovmf", FW_AMD, "--vcpus", "abc", NULL), 2);
	/* 1..512 vCPUs */
	assert_int_equal(cli("--mode", "seves", "--ovmf", FW_AMD, "--vcpus", "512", "--vcpu-type", "EPYC", NULL), 0);
	assert_int_equal(cli("--mode", "seves", "--ovmf", FW_AMD, "--vcpus", "513", "--vcpu-type", "EPYC", NULL), 2);
	assert_non_null(strstr(err_msg(), "--vcpus: 513 is out of range (1..512)"));
}

static void test_cli_ovmf_hash(void **state)
{
	static char hash[sizeof(cli_out)], full[sizeof(cli_out)];
	char spaced[160];

	(void)state;
	/* snp:ovmf-hash prints bare hex whatever -v / --output-format say */
	assert_int_equal(cli("--mode", "snp:ovmf-hash", "--ovmf", FW_AMD, NULL), 0);
	assert_int_equal(strlen(cli_out), 2 * SNP_DIGEST_LEN + 1);
	memcpy(hash, cli_out, sizeof(hash));
	hash[2 * SNP_DIGEST_LEN] = 0;
	assert_int_equal(cli("--mode", "snp:ovmf-hash", "--ovmf", FW_AMD, "-v", "--output-format", "base64", NULL), 0);
	assert_memory_equal(cli_out, hash, 2 * SNP_DIGEST_LEN);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "3", "--vcpu-type", "EPYC", NULL), 0);
	memcpy(full, cli_out, sizeof(full));
	/* round trip; blanks between bytes as bytes.fromhex() allows; "" = none */
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "3", "--vcpu-type", "EPYC", "--snp-ovmf-hash",
			     hash, NULL), 0);
	assert_string_equal(cli_out, full);
	snprintf(spaced, sizeof(spaced), " %.40s %.56s ", hash, hash + 40);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "3", "--vcpu-type", "EPYC", "--snp-ovmf-hash",
			     spaced, NULL), 0);
	assert_string_equal(cli_out, full);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "3", "--vcpu-type", "EPYC", "--snp-ovmf-hash",
			     "", NULL), 0);
	assert_string_equal(cli_out, full);
	snprintf(spaced, sizeof(spaced), "%.41s %.55s", hash, hash + 41);
	assert_int_equal(cli("--mode", "snp", "--ovmf", FW_AMD, "--vcpus", "3", "--vcpu-type", "EPYC", "--snp-ovmf-hash",
			     spaced, NULL), 2);
}

/* A patched copy of the AmdSev image in a temporary file. */
static void write_patched(const char *dir, const char *name, const char *guid, size_t at, uint32_t value,
			  char *path, size_t n)
{
	struct fw_image fw;
	const uint8_t *d = NULL;
	size_t len = 0;

	assert_int_equal(fw_load(FW_AMD, &fw), 0);
	if (guid) {
		assert_int_equal(fw_table_find(&fw, guid, &d, &len), 0);
		put_le32(fw.data + (d - fw.data) + at, value);
	} else {
		memset(fw.data + fw.size - 48, 0, 48); /* no footer table */
	}
	snprintf(path, n, "%s/%s", dir, name);
	assert_int_equal(file_write(path, fw.data, fw.size), 0);
	fw_free(&fw);
}

static void test_cli_firmware_edges(void **state)
{
	char dir[] = "/tmp/cvmm-test-measure-XXXXXX", nofooter[256], eip0[256], badtype[256], hex[65];
	uint8_t *img, sha[32];
	size_t len;
	unsigned l;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* SEV measures an image without a footer table as it is (QEMU and
	 * sev-snp-measure do); SEV-ES and SNP still need the table */
	write_patched(dir, "nofooter.fd", NULL, 0, 0, nofooter, sizeof(nofooter));
	assert_int_equal(cli("--mode", "sev", "--ovmf", nofooter, NULL), 0);
	assert_int_equal(file_read(nofooter, 16 << 20, &img, &len), 0);
	assert_true(EVP_Digest(img, len, sha, &l, EVP_sha256(), NULL));
	hex_encode(sha, 32, hex);
	assert_memory_equal(cli_out, hex, 64);
	free(img);
	assert_int_equal(cli("--mode", "seves", "--ovmf", nofooter, "--vcpus", "1", "--vcpu-type", "EPYC", NULL), 2);
	assert_non_null(strstr(err_msg(), "no OVMF footer GUID table"));
	assert_int_equal(cli("--mode", "snp:ovmf-hash", "--ovmf", nofooter, NULL), 0);
	/* a zero AP reset address: QEMU refuses SEV-ES/SNP even with one vCPU */
	write_patched(dir, "eip0.fd", FW_GUID_SEV_ES_RESET, 0, 0, eip0, sizeof(eip0));
	assert_int_equal(cli("--mode", "snp", "--ovmf", eip0, "--vcpus", "1", "--vcpu-type", "EPYC", NULL), 2);
	assert_non_null(strstr(err_msg(), "reset block"));
	assert_int_equal(cli("--mode", "sev", "--ovmf", eip0, NULL), 0);
	/* an unknown metadata section type only matters to SNP */
	{
		struct fw_image fw;
		const uint8_t *d = NULL;
		size_t n = 0;

		assert_int_equal(fw_load(FW_AMD, &fw), 0);
		assert_int_equal(fw_table_find(&fw, FW_GUID_SEV_METADATA, &d, &n), 0);
		put_le32(fw.data + fw.size - le32(d) + 16 + 8, 7); /* section 0 type */
		snprintf(badtype, sizeof(badtype), "%s/badtype.fd", dir);
		assert_int_equal(file_write(badtype, fw.data, fw.size), 0);
		fw_free(&fw);
	}
	assert_int_equal(cli("--mode", "seves", "--ovmf", badtype, "--vcpus", "2", "--vcpu-type", "EPYC", NULL), 0);
	assert_int_equal(cli("--mode", "snp", "--ovmf", badtype, "--vcpus", "2", "--vcpu-type", "EPYC", NULL), 2);
	assert_non_null(strstr(err_msg(), "unknown type 0x7"));
	unlink(nofooter);
	unlink(eip0);
	unlink(badtype);
	rmdir(dir);
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
		cmocka_unit_test(test_expected_tsv),  cmocka_unit_test(test_extra_tsv),
		cmocka_unit_test(test_cli_numbers),   cmocka_unit_test(test_cli_ovmf_hash),
		cmocka_unit_test(test_cli_firmware_edges), cmocka_unit_test(test_cpu_sigs),
		cmocka_unit_test(test_vmm_types),     cmocka_unit_test(test_vmsa_layout),
		cmocka_unit_test(test_page_info_fold), cmocka_unit_test(test_hashes_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
