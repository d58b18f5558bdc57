/* `cvmm measure` takes what sev-snp-measure takes (issue 17): one-page
 * firmware files (the last 4 KiB of OVMF, as sev-snp-measure's own fixtures),
 * /dev/null kernels, and boot files from FIFOs and pipes (/dev/fd/N), read
 * once. The digests are sev-snp-measure's own test vectors (virtee/sev-snp-
 * measure 8f2b337, tests/test_guest.py), re-expressed here as cvmm command
 * lines; tests/fixtures/measure/sev-snp-measure/README.md has the provenance. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "firmware/firmware.h"
#include "sev/sev.h"
#include "cli_run.h"

#define SSM "tests/fixtures/measure/sev-snp-measure/"
#define AMDSEV SSM "ovmf_AmdSev_suffix.bin"
#define OVMFX64 SSM "ovmf_OvmfX64_suffix.bin"
#define KERNEL "tests/fixtures/measure/boot/vmlinuz-6.1.0-56-cloud-amd64"
#define INITRD "tests/fixtures/measure/boot/initrd-fixture.cpio.gz"
#define FW_SEV "tests/fixtures/measure/firmware/OVMF.amdsev-2026.08+ds-2.fd"
#define OVMF_HASH "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"

static char tmpdir[] = "/tmp/cvmm-measure-inputs-XXXXXX";
static char *out_text, *err_text;

static int runv(const char *const *argv)
{
	const char *args[64] = { "measure" };
	struct cli_result r;
	int n = 1;

	for (; *argv && n < 63; argv++)
		args[n++] = *argv;
	args[n] = NULL;
	cli_run(&r, args);
	free(out_text);
	free(err_text);
	out_text = r.out;
	err_text = r.err;
	return r.code;
}

#define RUN(...) runv((const char *const[]){ __VA_ARGS__, NULL })

static void expect_digest(const char *hex)
{
	char line[200];

	snprintf(line, sizeof(line), "%s\n", hex);
	if (strcmp(out_text, line))
		fprintf(stderr, "stderr: %s", err_text);
	assert_string_equal(out_text, line);
}

/* test_guest.py, one row per test: the command line and the expected digest. */
struct vec {
	const char *name;
	const char *args[24];
	const char *digest;
};

static const struct vec vecs[] = {
	{ "snp_ovmf_hash_gen_default",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "", "--guest-features", "0x21", "--snp-ovmf-hash", OVMF_HASH },
	  "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198" },
	{ "snp_ovmf_hash_gen_feature_snp_only",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "", "--guest-features", "0x1", "--snp-ovmf-hash", OVMF_HASH },
	  "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5" },
	{ "snp_ovmf_hash_full_default",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "console=ttyS0 loglevel=7", "--guest-features", "0x21",
	    "--snp-ovmf-hash", OVMF_HASH },
	  "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977" },
	{ "snp_ovmf_hash_full_feature_snp_only",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "console=ttyS0 loglevel=7", "--guest-features", "0x1",
	    "--snp-ovmf-hash", OVMF_HASH },
	  "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa" },
	{ "snp_ec2_default",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "", "--guest-features", "0x21", "--vmm-type", "ec2" },
	  "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb" },
	{ "snp_ec2_feature_snp_only",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "", "--guest-features", "0x1", "--vmm-type", "ec2" },
	  "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056" },
	{ "snp_gce_default",
	  { "--mode", "snp", "--vcpus", "1", "--ovmf", AMDSEV, "--kernel", "/dev/null", "--initrd", "/dev/null",
	    "--append", "", "--guest-features", "0x1", "--vmm-type", "gce" },
	  "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e" },
	{ "snp_gce_with_multiple_vcpus_default",
	  { "--mode", "snp", "--vcpus", "4", "--ovmf", AMDSEV, "--kernel", "/dev/null", "--initrd", "/dev/null",
	    "--append", "", "--guest-features", "0x1", "--vmm-type", "gce" },
	  "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d" },
	{ "snp_default",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "console=ttyS0 loglevel=7", "--guest-features", "0x21" },
	  "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977" },
	{ "snp_guest_feature_snp_only",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "console=ttyS0 loglevel=7", "--guest-features", "0x1" },
	  "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa" },
	{ "snp_without_kernel_default",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--guest-features", "0x21" },
	  "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b" },
	{ "snp_without_kernel_feature_snp_only",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--guest-features", "0x1" },
	  "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d" },
	{ "snp_with_multiple_vcpus_default",
	  { "--mode", "snp", "--vcpus", "4", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "", "--guest-features", "0x21" },
	  "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942" },
	{ "snp_with_multiple_vcpus_feature_snp_only",
	  { "--mode", "snp", "--vcpus", "4", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "", "--guest-features", "0x1" },
	  "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5" },
	{ "snp_with_ovmfx64_without_default",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", OVMFX64, "--guest-features", "0x21" },
	  "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385" },
	{ "snp_with_ovmfx64_without_kernel_feature_snp_only",
	  { "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", OVMFX64, "--guest-features", "0x1" },
	  "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005" },
	{ "seves",
	  { "--mode", "seves", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "", "--guest-features", "0x1" },
	  "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c" },
	{ "seves_with_multiple_vcpus",
	  { "--mode", "seves", "--vcpus", "4", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel", "/dev/null",
	    "--initrd", "/dev/null", "--append", "", "--guest-features", "0x21" },
	  "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91" },
	{ "sev",
	  { "--mode", "sev", "--ovmf", AMDSEV, "--kernel", "/dev/null", "--initrd", "/dev/null", "--append",
	    "console=ttyS0 loglevel=7", "--guest-features", "0x21" },
	  "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff" },
	{ "sev_with_kernel_without_initrd_and_append",
	  { "--mode", "sev", "--ovmf", AMDSEV, "--kernel", "/dev/null", "--guest-features", "0x21" },
	  "77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898" },
	{ "sev_with_ovmfx64_without_kernel",
	  { "--mode", "sev", "--ovmf", OVMFX64, "--guest-features", "0x21" },
	  "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da" },
	{ "snp_ovmf_hash (calc_snp_ovmf_hash)", { "--mode", "snp:ovmf-hash", "--ovmf", AMDSEV }, OVMF_HASH },
};

static void test_sev_snp_measure_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		int code = runv(vecs[i].args);

		if (code)
			fprintf(stderr, "%s: exit %d: %s", vecs[i].name, code, err_text);
		assert_int_equal(code, 0);
		expect_digest(vecs[i].digest);
	}
}

static void expect_error(const char *msg)
{
	assert_string_equal(out_text, "");
	assert_true(!strncmp(err_text, "cvmm measure: ", 14));
	if (!strstr(err_text, msg))
		fprintf(stderr, "want '%s' in: %s", msg, err_text);
	assert_non_null(strstr(err_text, msg));
}

/* test_guest.py's *_should_fail cases: a kernel with the generic OVMF build
 * (no hashes table) fails in every mode, with a message saying why. */
static void test_refusals(void **state)
{
	char small[4200];
	static uint8_t page[4096];

	(void)state;
	assert_int_equal(RUN("--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", OVMFX64, "--kernel",
			     "/dev/null", "--initrd", "/dev/null", "--append", "", "--guest-features", "0x21"), 2);
	expect_error("SEV hashes table");
	assert_int_equal(RUN("--mode", "seves", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", OVMFX64, "--kernel",
			     "/dev/null", "--initrd", "/dev/null", "--append", ""), 2);
	expect_error("SEV hashes table");
	assert_int_equal(RUN("--mode", "sev", "--ovmf", OVMFX64, "--kernel", "/dev/null", "--initrd", "/dev/null",
			     "--append", ""), 2);
	expect_error("SEV hashes table");

	/* a page without the footer table: SNP needs its metadata, and says so */
	snprintf(small, sizeof(small), "%s/zero-page.fd", tmpdir);
	assert_int_equal(file_write(small, page, sizeof(page)), 0);
	assert_int_equal(RUN("--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", small), 2);
	expect_error("no OVMF footer GUID table");
	/* plain SEV measures any page-sized image */
	assert_int_equal(RUN("--mode", "sev", "--ovmf", small), 0);
	expect_digest("ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7"); /* SHA-256 of 4096 zeros */
	/* an empty firmware file (e.g. /dev/null) is too short */
	assert_int_equal(RUN("--mode", "sev", "--ovmf", "/dev/null"), 2);
	expect_error("/dev/null: firmware is 0 bytes, too short");
	/* a directory is not an input */
	assert_int_equal(RUN("--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel",
			     tmpdir), 2);
	expect_error("is a directory");
	unlink(small);
}

/* The last page of a full image plus the full image's --snp-ovmf-hash gives
 * the full image's digest. */
static void test_suffix_equals_full(void **state)
{
	char sfx[4200], hash[100], want[100];
	uint8_t *d;
	size_t n;

	(void)state;
	assert_int_equal(RUN("--mode", "snp:ovmf-hash", "--ovmf", FW_SEV), 0);
	snprintf(hash, sizeof(hash), "%.96s", out_text);
	assert_int_equal(RUN("--mode", "snp", "--vcpus", "3", "--vcpu-type", "EPYC-Milan", "--ovmf", FW_SEV, "--kernel",
			     KERNEL, "--append", "console=ttyS0"), 0);
	snprintf(want, sizeof(want), "%s", out_text);
	assert_int_equal(file_read(FW_SEV, 64u << 20, &d, &n), 0);
	snprintf(sfx, sizeof(sfx), "%s/suffix.bin", tmpdir);
	assert_int_equal(file_write(sfx, d + n - 4096, 4096), 0);
	free(d);
	assert_int_equal(RUN("--mode", "snp", "--vcpus", "3", "--vcpu-type", "EPYC-Milan", "--ovmf", sfx, "--kernel",
			     KERNEL, "--append", "console=ttyS0", "--snp-ovmf-hash", hash), 0);
	assert_string_equal(out_text, want);
	unlink(sfx);
}

/* --dump-vmsa with one-page firmware (test_snp_dump_vmsa, test_seves_dump_vmsa). */
static void test_dump_vmsa(void **state)
{
	char dir[4200], p[4300];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/vmsa", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(RUN("--mode", "seves", "--vcpus", "4", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel",
			     "/dev/null", "--initrd", "/dev/null", "--append", "", "--guest-features", "0x21",
			     "--dump-vmsa", dir), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/vmsa%d.bin", dir, i);
		assert_int_equal(stat(p, &st), i < 4 ? 0 : -1);
		if (i < 4)
			assert_int_equal(st.st_size, 4096);
		unlink(p);
	}
	assert_int_equal(RUN("--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", AMDSEV, "--kernel",
			     "/dev/null", "--initrd", "/dev/null", "--append", "", "--guest-features", "0x21",
			     "--snp-ovmf-hash",
			     "cab7e085874b3acfdbe2d96dcaa3125111f00c35c6fc9708464c2ae74bfdb048a198cb9a9ccae0b3e5e1a33f5f249819",
			     "--dump-vmsa", dir), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/vmsa%d.bin", dir, i);
		assert_int_equal(stat(p, &st), i < 1 ? 0 : -1);
		unlink(p);
	}
	rmdir(dir);
}

#define SVSM SSM "svsm.bin"
#define SVSM_OVMF SSM "svsm_ovmf.fd"

/* test_snp_svsm_4_vcpus, test_snp_svsm_2_vcpus, test_snp_svsm_dump_vmsa */
static void test_svsm(void **state)
{
	char dir[4200], p[4300], vars[4200];
	struct sev_cpu_state st;
	uint8_t *page;
	size_t n;
	static uint8_t zeros[540672];

	(void)state;
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "4", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", SVSM, "--vars-size", "540672", "--guest-features", "0x21"), 0);
	expect_digest("27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2");
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", SVSM, "--vars-size", "540672", "--guest-features", "0x21"), 0);
	expect_digest("9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7");
	/* --vars-file: only its size counts */
	snprintf(vars, sizeof(vars), "%s/OVMF_VARS.fd", tmpdir);
	assert_int_equal(file_write(vars, zeros, sizeof(zeros)), 0);
	assert_int_equal(RUN("--platform", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", SVSM, "--vars-file", vars, "-v"), 0);
	assert_string_equal(out_text, "Calculated SEV_SNP_SVSM guest measurement: "
				      "9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7\n");
	unlink(vars);

	snprintf(dir, sizeof(dir), "%s/svsm-vmsa", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", SVSM, "--vars-size", "540672", "--dump-vmsa", dir), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/vmsa%d.bin", dir, i);
		if (i == 2) {
			assert_int_equal(access(p, F_OK), -1);
			continue;
		}
		assert_int_equal(file_read(p, 8192, &page, &n), 0);
		assert_int_equal(n, 4096);
		sev_vmsa_decode(page, &st);
		/* 32-bit flat protected mode at the SVSM entry, RDX = signature */
		assert_int_equal(st.cs.selector, 8);
		assert_int_equal(st.cr0, 0x11);
		assert_int_equal(st.rdx, 0x800f12);
		assert_int_equal(st.sev_features, 1);
		assert_true(st.rip >= 0xffc84000 - 540672 - 1138688 && st.rip < 0xffc84000 - 540672); /* inside the SVSM */
		free(page);
		unlink(p);
	}
	rmdir(dir);

	/* what snp:svsm needs, and what it refuses */
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--vars-size", "540672"), 2);
	expect_error("needs --svsm");
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", SVSM), 2);
	expect_error("--vars-size N or --vars-file");
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", SVSM, "--vars-size", "1", "--vars-file", "/dev/null"), 2);
	expect_error("conflict");
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", SVSM, "--vars-size", "100"), 2);
	expect_error("not a multiple of 4096");
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", AMDSEV, "--vars-size", "0"), 2);
	expect_error("no SVSM_INFO entry");
	assert_int_equal(RUN("--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF,
			     "--svsm", SVSM, "--vars-size", "0", "--kernel", "/dev/null"), 2);
	expect_error("measures no kernel");
	assert_int_equal(RUN("--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", SVSM_OVMF, "--svsm",
			     SVSM), 2);
	expect_error("--svsm only works with --mode snp:svsm");
}

/* Fork a writer that copies src into fd, then exits. */
static pid_t writer(const char *src, int fd_or_neg, const char *fifo)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *d = NULL;
		size_t n = 0, off = 0;
		int fd;

		/* hold no other pipe's write end open: its reader would never see EOF */
		for (int i = 3; i < 1024; i++)
			if (i != fd_or_neg)
				close(i);
		fd = fd_or_neg >= 0 ? fd_or_neg : open(fifo, O_WRONLY);

		if (fd < 0 || file_read(src, 1u << 30, &d, &n))
			_exit(1);
		while (off < n) {
			ssize_t w = write(fd, d + off, n - off);

			if (w <= 0)
				_exit(2);
			off += (size_t)w;
		}
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static const char *const base_args[] = { "--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--append",
					 "console=ttyS0" };

/* The same launch measured from regular files, from FIFOs (mkfifo) and from
 * pipes named /dev/fd/N gives one digest. */
static void test_fifo_and_pipe(void **state)
{
	char want[200], kfifo[4200], ififo[4200], fdk[32], fdf[32];
	const char *args[24];
	int kp[2], fp[2];
	pid_t w1, w2;
	size_t n;

	(void)state;
	n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(base_args); i++)
		args[n++] = base_args[i];
	args[n++] = "--ovmf", args[n++] = FW_SEV, args[n++] = "--kernel", args[n++] = KERNEL;
	args[n++] = "--initrd", args[n++] = INITRD, args[n] = NULL;
	assert_int_equal(runv(args), 0);
	snprintf(want, sizeof(want), "%s", out_text);
	assert_int_equal(strlen(want), 97);

	/* FIFOs: kernel and initrd */
	snprintf(kfifo, sizeof(kfifo), "%s/kernel.fifo", tmpdir);
	snprintf(ififo, sizeof(ififo), "%s/initrd.fifo", tmpdir);
	assert_int_equal(mkfifo(kfifo, 0600), 0);
	assert_int_equal(mkfifo(ififo, 0600), 0);
	w1 = writer(KERNEL, -1, kfifo);
	w2 = writer(INITRD, -1, ififo);
	args[n - 3] = kfifo;
	args[n - 1] = ififo;
	assert_int_equal(runv(args), 0);
	reap(w1);
	reap(w2);
	assert_string_equal(out_text, want);
	unlink(kfifo);
	unlink(ififo);

	/* pipes as /dev/fd/N: the firmware and the kernel (initrd from the file) */
	assert_int_equal(pipe(kp), 0);
	assert_int_equal(pipe(fp), 0);
	w1 = writer(KERNEL, kp[1], NULL);
	w2 = writer(FW_SEV, fp[1], NULL);
	close(kp[1]);
	close(fp[1]);
	snprintf(fdk, sizeof(fdk), "/dev/fd/%d", kp[0]);
	snprintf(fdf, sizeof(fdf), "/dev/fd/%d", fp[0]);
	args[n - 5] = fdf;
	args[n - 3] = fdk;
	args[n - 1] = INITRD;
	assert_int_equal(runv(args), 0);
	close(kp[0]);
	close(fp[0]);
	reap(w1);
	reap(w2);
	assert_string_equal(out_text, want);
}

/* file_read_any: devices, pipes and the size limit. */
static void test_file_read_any(void **state)
{
	uint8_t *d = NULL;
	size_t n = 1;
	int p[2];
	pid_t w;

	(void)state;
	assert_int_equal(file_read_any("/dev/null", 10, &d, &n), 0);
	assert_int_equal(n, 0);
	free(d);
	/* the regular-file reader still refuses devices (its users rely on it) */
	assert_int_equal(file_read("/dev/null", 10, &d, &n), -EINVAL);
	assert_int_equal(file_read_any(tmpdir, 10, &d, &n), -EISDIR);
	assert_int_equal(file_read_any(AMDSEV, 4095, &d, &n), -EFBIG);
	assert_int_equal(file_read_any(AMDSEV, 4096, &d, &n), 0);
	assert_int_equal(n, 4096);
	free(d);

	assert_int_equal(pipe(p), 0);
	w = writer(INITRD, p[1], NULL);
	close(p[1]);
	char path[32];
	snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
	assert_int_equal(file_read_any(path, 1u << 20, &d, &n), 0);
	close(p[0]);
	reap(w);
	uint8_t *ref;
	size_t rn;
	assert_int_equal(file_read(INITRD, 1u << 20, &ref, &rn), 0);
	assert_int_equal(n, rn);
	assert_memory_equal(d, ref, n);
	free(d);
	free(ref);

	/* a pipe larger than the limit: an error, not a truncated read */
	assert_int_equal(pipe(p), 0);
	w = writer(KERNEL, p[1], NULL);
	close(p[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
	assert_int_equal(file_read_any(path, 100000, &d, &n), -EFBIG);
	assert_non_null(strstr(err_msg(), "larger than the limit"));
	close(p[0]);
	int st;
	assert_int_equal(waitpid(w, &st, 0), w); /* the writer sees EPIPE: any exit */

	/* one-page firmware through the library */
	struct fw_image fw;
	struct fw_sev_info info;
	assert_int_equal(fw_load(AMDSEV, &fw), 0);
	assert_int_equal(fw.base_gpa, 0xfffff000ull);
	assert_int_equal(fw_sev_parse(&fw, &info), 0);
	assert_true(info.n_sections > 0);
	assert_true(info.has_hashes_table);
	fw_free(&fw);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(out_text);
	free(err_text);
	rmdir(tmpdir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sev_snp_measure_vectors), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_dump_vmsa), cmocka_unit_test(test_suffix_equals_full),               cmocka_unit_test(test_fifo_and_pipe),
		cmocka_unit_test(test_file_read_any),           cmocka_unit_test(test_svsm),
	};
	(void)argc;
	if (cli_locate(argv[0]))
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
