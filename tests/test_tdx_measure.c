/* Unit tests: TDVF metadata (firmware/tdvf.c), TD HOB, MRTD and the
 * `cvmm measure --platform tdx` CLI (tdx/). Reference values come from
 * tests/fixtures/measure/tdx-expected.tsv (see its README for provenance). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/common.h"
#include "cli_run.h"
#include "firmware/firmware.h"
#include "tdx/tdx.h"

#define FIXDIR   "tests/fixtures/measure/"
#define BOOKWORM FIXDIR "firmware/OVMF-2022.11-6+deb12u2.fd"
#define INTELTDX FIXDIR "firmware/OVMF.inteltdx.ms-2026.08+ds-2.fd"

/* ---- helpers ---- */

static char *read_text(const char *path)
{
	uint8_t *d;
	size_t n;

	assert_int_equal(file_read(path, 1 << 20, &d, &n), 0);
	return (char *)d;
}

static int mrtd_hex(const char *path, enum tdx_mrtd_variant v, uint64_t mem, char hex[97])
{
	struct fw_image fw;
	struct tdvf_metadata md;
	struct launch_plan plan = {0};
	uint8_t mrtd[TDX_MR_SIZE];
	int ret = fw_load(path, &fw);

	if (ret)
		return ret;
	ret = fw_tdvf_parse(&fw, &md);
	if (!ret)
		ret = tdx_plan_build(&fw, &md, mem, &plan);
	if (!ret)
		ret = tdx_mrtd(&plan, v, NULL, mrtd);
	if (!ret)
		hex_encode(mrtd, TDX_MR_SIZE, hex);
	plan_free(&plan);
	fw_free(&fw);
	return ret;
}

/* Run the CLI in-process with stdout and stderr captured. */
struct inproc_result {
	int rc;
	char out[8192], err[8192];
};

static void slurp(int fd, char *buf, size_t cap)
{
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, cap - 1);
	buf[n > 0 ? n : 0] = 0;
}

static void run_cli(struct inproc_result *r, int argc, char **argv)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	int so, se;

	assert_non_null(fo);
	assert_non_null(fe);
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	r->rc = tdx_cli_measure(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	slurp(fileno(fo), r->out, sizeof(r->out));
	slurp(fileno(fe), r->err, sizeof(r->err));
	fclose(fo);
	fclose(fe);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- reference values ---- */

/* Every row of tdx-expected.tsv: MRTD does not depend on kernel/append
 * (those go to RTMRs), so the MRTD column is checked for every row. */
static void test_expected_tsv(void **state)
{
	char *text = read_text(FIXDIR "tdx-expected.tsv"), *save = NULL, *line;
	int rows = 0;

	(void)state;
	line = strtok_r(text, "\n", &save); /* header */
	assert_non_null(strstr(line, "mrtd_hex"));
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *cols[9], *cs = NULL, path[512], hex[97];
		enum tdx_mrtd_variant v;
		int n = 0;

		for (char *c = strtok_r(line, "\t", &cs); c && n < 9; c = strtok_r(NULL, "\t", &cs))
			cols[n++] = c;
		assert_int_equal(n, 9);
		snprintf(path, sizeof(path), FIXDIR "%s", cols[0]);
		assert_int_equal(tdx_mrtd_variant_parse(cols[1], &v), 0);
		if (mrtd_hex(path, v, 2ull << 30, hex))
			fail_msg("%s: %s", path, err_msg());
		if (strcmp(hex, cols[4]))
			fail_msg("row %d (%s %s): got %s want %s", rows + 1, cols[0], cols[1], hex, cols[4]);
		rows++;
	}
	assert_true(rows >= 3);
	free(text);
}

/* MRTD covers only what TDX measures: the RAM size changes the TD HOB
 * contents, which are PAGE.ADDed but not extended. */
static void test_mrtd_independent_of_mem(void **state)
{
	char a[97], b[97];

	(void)state;
	assert_int_equal(mrtd_hex(BOOKWORM, TDX_MRTD_SINGLE_PASS, 2ull << 30, a), 0);
	assert_int_equal(mrtd_hex(BOOKWORM, TDX_MRTD_SINGLE_PASS, 8ull << 30, b), 0);
	assert_string_equal(a, b);
	assert_string_equal(a, "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47");
}

/* The two orders differ exactly when a section is extended. */
static void test_variants_on_small_plan(void **state)
{
	static uint8_t page[2 * 4096];
	struct launch_plan p = {0};
	struct plan_step add_only = { .gpa = 0x800000, .len = 0x2000, .kind = PLAN_TEMP_MEM, .vcpu = -1 };
	struct plan_step ext = { .gpa = 0xffff0000, .len = 0x2000, .kind = PLAN_NORMAL, .flags = PLAN_F_EXTEND,
				 .data = page, .vcpu = -1 };
	uint8_t s1[48], s2[48];

	(void)state;
	memset(page, 0xa5, sizeof(page));
	assert_int_equal(plan_add(&p, &add_only), 0);
	assert_int_equal(tdx_mrtd(&p, TDX_MRTD_SINGLE_PASS, NULL, s1), 0);
	assert_int_equal(tdx_mrtd(&p, TDX_MRTD_TWO_PASS, NULL, s2), 0);
	assert_memory_equal(s1, s2, 48);
	assert_int_equal(plan_add(&p, &ext), 0);
	assert_int_equal(tdx_mrtd(&p, TDX_MRTD_SINGLE_PASS, NULL, s1), 0);
	assert_int_equal(tdx_mrtd(&p, TDX_MRTD_TWO_PASS, NULL, s2), 0);
	assert_memory_not_equal(s1, s2, 48);

	/* A one-page extended step: ADD record then 16 EXTEND records. */
	struct launch_plan q = {0};
	struct plan_step one = ext;
	uint8_t want[48], rec[128 + 256];
	unsigned int l;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	one.len = 4096;
	assert_int_equal(plan_add(&q, &one), 0);
	assert_int_equal(tdx_mrtd(&q, TDX_MRTD_SINGLE_PASS, NULL, s1), 0);
	EVP_DigestInit_ex(ctx, EVP_sha384(), NULL);
	memset(rec, 0, 128);
	memcpy(rec, "MEM.PAGE.ADD", 12);
	put_le64(rec + 16, 0xffff0000);
	EVP_DigestUpdate(ctx, rec, 128);
	for (unsigned c = 0; c < 16; c++) {
		memset(rec, 0, 128);
		memcpy(rec, "MR.EXTEND", 9);
		put_le64(rec + 16, 0xffff0000 + 256 * c);
		memcpy(rec + 128, page + 256 * c, 256);
		EVP_DigestUpdate(ctx, rec, sizeof(rec));
	}
	EVP_DigestFinal_ex(ctx, want, &l);
	EVP_MD_CTX_free(ctx);
	assert_memory_equal(s1, want, 48);

	/* AUG pages are not measured at all. */
	struct launch_plan r = {0};
	struct plan_step aug = add_only;
	uint8_t empty[48];

	aug.flags = PLAN_F_AUG;
	assert_int_equal(plan_add(&r, &aug), 0);
	assert_int_equal(tdx_mrtd(&r, TDX_MRTD_SINGLE_PASS, NULL, s1), 0);
	EVP_Digest("", 0, empty, &l, EVP_sha384(), NULL);
	assert_memory_equal(s1, empty, 48);
	plan_free(&p);
	plan_free(&q);
	plan_free(&r);
}

/* ---- TDVF metadata ---- */

static void test_tdvf_sections(void **state)
{
	struct fw_image fw;
	struct tdvf_metadata md;
	struct launch_plan plan = {0};

	(void)state;
	assert_int_equal(fw_load(BOOKWORM, &fw), 0);
	assert_int_equal(fw_tdvf_parse(&fw, &md), 0);
	assert_int_equal(md.n, 6);
	assert_int_equal(md.offset, 0x1ff7c0);
	assert_int_equal(md.s[0].type, TDVF_BFV);
	assert_int_equal(md.s[0].gpa, 0xffe20000);
	assert_int_equal(md.s[0].size, 0x1e0000);
	assert_int_equal(md.s[0].data_offset, 0x20000);
	assert_int_equal(md.s[0].attributes, TDVF_ATTR_MR_EXTEND);
	assert_int_equal(md.s[1].type, TDVF_CFV);
	assert_int_equal(md.s[1].attributes, 0);
	assert_int_equal(md.s[4].type, TDVF_TD_HOB);
	assert_int_equal(md.s[4].gpa, 0x809000);
	assert_string_equal(fw_tdvf_type_name(md.s[5].type), "TempMem");

	assert_int_equal(tdx_plan_build(&fw, &md, 2ull << 30, &plan), 0);
	assert_int_equal(plan.n, 6);
	assert_int_equal(plan.steps[0].kind, PLAN_NORMAL);
	assert_int_equal(plan.steps[0].flags, PLAN_F_EXTEND);
	assert_ptr_equal(plan.steps[0].data, fw.data + 0x20000);
	assert_string_equal(plan.steps[0].label, "BFV");
	assert_int_equal(plan.steps[2].kind, PLAN_TEMP_MEM);
	assert_null(plan.steps[2].data);
	assert_int_equal(plan.steps[4].kind, PLAN_TD_HOB);
	assert_non_null(plan.steps[4].data);
	assert_int_equal(le16(plan.steps[4].data), TDX_HOB_TYPE_HANDOFF);
	plan_free(&plan);
	fw_free(&fw);
}

/* ---- TD HOB ---- */

static void test_td_hob_layout(void **state)
{
	struct fw_image fw;
	struct tdvf_metadata md;
	struct tdx_ram_map map;
	static const struct tdx_ram_entry want[] = {
		{ 0, 0x800000, TDX_RAM_UNACCEPTED },        { 0x800000, 0x6000, TDX_RAM_ADDED },
		{ 0x806000, 0x3000, TDX_RAM_UNACCEPTED },   { 0x809000, 0x2000, TDX_RAM_ADDED },
		{ 0x80b000, 0x2000, TDX_RAM_ADDED },        { 0x80d000, 0x3000, TDX_RAM_UNACCEPTED },
		{ 0x810000, 0x10000, TDX_RAM_ADDED },       { 0x820000, 0x80000000 - 0x820000, TDX_RAM_UNACCEPTED },
		{ 0x100000000, 0x80000000, TDX_RAM_UNACCEPTED },
	};
	uint8_t hob[0x2000];
	size_t used;

	(void)state;
	assert_int_equal(fw_load(BOOKWORM, &fw), 0);
	assert_int_equal(fw_tdvf_parse(&fw, &md), 0);
	/* 4 GiB on q35: 2 GiB below 4 GiB, 2 GiB from 4 GiB. */
	assert_int_equal(tdx_ram_map_build(&md, 4ull << 30, &map), 0);
	assert_int_equal(map.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < map.n; i++) {
		assert_int_equal(map.e[i].gpa, want[i].gpa);
		assert_int_equal(map.e[i].len, want[i].len);
		assert_int_equal(map.e[i].type, want[i].type);
	}
	assert_int_equal(tdx_hob_build(&map, 0x809000, hob, sizeof(hob), &used), 0);
	assert_int_equal(used, 56 + 9 * 48 + 8);
	/* PHIT */
	assert_int_equal(le16(hob), 0x0001);
	assert_int_equal(le16(hob + 2), 56);
	assert_int_equal(le32(hob + 8), 0x0009);
	assert_int_equal(le64(hob + 16), 0);               /* EfiMemoryTop */
	assert_int_equal(le64(hob + 48), 0x809000 + used); /* EfiEndOfHobList */
	/* first and second resource descriptors */
	const uint8_t *rd = hob + 56;
	assert_int_equal(le16(rd), 0x0003);
	assert_int_equal(le16(rd + 2), 48);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd[8 + i], 0); /* Owner */
	assert_int_equal(le32(rd + 24), 7);  /* EFI_RESOURCE_MEMORY_UNACCEPTED */
	assert_int_equal(le32(rd + 28), 7);  /* PRESENT|INITIALIZED|TESTED */
	assert_int_equal(le64(rd + 32), 0);
	assert_int_equal(le64(rd + 40), 0x800000);
	rd += 48;
	assert_int_equal(le32(rd + 24), 0);  /* EFI_RESOURCE_SYSTEM_MEMORY */
	assert_int_equal(le64(rd + 32), 0x800000);
	assert_int_equal(le64(rd + 40), 0x6000);
	/* the last one is above 4 GiB, then the end-of-list HOB */
	rd = hob + 56 + 8 * 48;
	assert_int_equal(le64(rd + 32), 0x100000000ull);
	assert_int_equal(le16(rd + 48), 0xffff);
	assert_int_equal(le16(rd + 50), 8);
	for (size_t i = used; i < sizeof(hob); i++)
		assert_int_equal(hob[i], 0);

	/* 1 GiB: all below 4 GiB, no high entry */
	assert_int_equal(tdx_ram_map_build(&md, 1ull << 30, &map), 0);
	assert_int_equal(map.n, 8);
	assert_int_equal(map.e[7].gpa + map.e[7].len, 1ull << 30);
	/* too small a HOB section, too little RAM for the TempMem sections */
	assert_int_equal(tdx_hob_build(&map, 0, hob, 100, &used), -ENOSPC);
	assert_int_equal(tdx_ram_map_build(&md, 0x1000000 - 0x1000, &map), -EINVAL);
	/* a TempMem section outside RAM is simply not reported (td-shim keeps
	 * its temporary memory in the flash range) ... */
	md.s[5].gpa = 0xfe000000;
	assert_int_equal(tdx_ram_map_build(&md, 1ull << 30, &map), 0);
	assert_int_equal(map.n, 6);
	for (size_t i = 0; i < map.n; i++)
		assert_true(map.e[i].gpa + map.e[i].len <= (1ull << 30));
	/* ... but one straddling the end of RAM is an error */
	md.s[5].gpa = 0x0ffff000; /* TempMem straddling the end of 256 MiB of RAM */
	assert_int_equal(tdx_ram_map_build(&md, 256ull << 20, &map), -EINVAL);
	assert_non_null(strstr(err_msg(), "straddles"));
	fw_free(&fw);
}

/* ---- malformed images ---- */

struct patched {
	struct fw_image orig, fw;
	uint8_t *img;
	uint8_t *desc, *sec; /* TDVF descriptor, first section */
	uint8_t *ent;        /* the footer table entry payload (u32 offset) */
};

static void patched_open(struct patched *p)
{
	struct tdvf_metadata md;
	const uint8_t *e;
	size_t n;

	assert_int_equal(fw_load(BOOKWORM, &p->orig), 0);
	assert_int_equal(fw_tdvf_parse(&p->orig, &md), 0);
	assert_int_equal(fw_table_find(&p->orig, FW_GUID_TDX_METADATA, &e, &n), 0);
	p->img = p->orig.data;
	p->ent = p->img + (e - p->orig.data);
	p->desc = p->img + md.offset;
	p->sec = p->desc + 16;
	assert_int_equal(fw_from_bytes(p->img, p->orig.size, "bad.fd", &p->fw), 0);
}

static void expect_bad(struct patched *p, int err, const char *needle)
{
	struct tdvf_metadata md;
	int ret = fw_tdvf_parse(&p->fw, &md);

	if (ret != -err || !strstr(err_msg(), needle))
		fail_msg("want -%d '%s', got %d '%s'", err, needle, ret, err_msg());
	assert_null(strchr(err_msg(), '\n'));
	assert_non_null(strstr(err_msg(), "bad.fd"));
	fw_free(&p->orig);
	patched_open(p);
}

static void test_tdvf_malformed(void **state)
{
	struct patched p;

	(void)state;
	patched_open(&p);
	p.ent[2 + 4] ^= 0xff; /* the entry's GUID follows its u16 length */
	expect_bad(&p, ENOENT, "no TDVF metadata");
	put_le32(p.ent, (uint32_t)p.fw.size + 16);
	expect_bad(&p, EINVAL, "outside the");
	put_le32(p.ent, 8);
	expect_bad(&p, EINVAL, "outside the");
	p.desc[0] = 'X';
	expect_bad(&p, EINVAL, "bad signature");
	put_le32(p.desc + 8, 2);
	expect_bad(&p, EINVAL, "version 2");
	put_le32(p.desc + 12, 0);
	expect_bad(&p, EINVAL, "NumberOfSectionEntries 0");
	put_le32(p.desc + 12, 1000);
	expect_bad(&p, EINVAL, "NumberOfSectionEntries 1000");
	put_le32(p.desc + 12, 5);
	expect_bad(&p, EINVAL, "does not match 5 sections");
	put_le32(p.sec + 0, 0x1ff000); /* BFV data offset: data runs past the end */
	expect_bad(&p, EINVAL, "outside the 2097152-byte image");
	put_le32(p.sec + 0, 0xfffffff0);
	expect_bad(&p, EINVAL, "outside the");
	put_le64(p.sec + 8, 0xffe20800); /* BFV MemoryAddress */
	expect_bad(&p, EINVAL, "not 4 KiB aligned");
	put_le64(p.sec + 32 * 2 + 16, 0x10800); /* TempMem MemoryDataSize */
	expect_bad(&p, EINVAL, "not 4 KiB aligned");
	put_le64(p.sec + 32 * 2 + 16, 0);
	expect_bad(&p, EINVAL, "zero MemoryDataSize");
	put_le64(p.sec + 32 * 3 + 8, 0x805000); /* TempMem 0x80b000 -> overlaps 0x800000+0x6000 */
	expect_bad(&p, EINVAL, "overlaps section");
	put_le64(p.sec + 8, 0xfffffffffffff000ull);
	expect_bad(&p, EINVAL, "beyond 2^52");
	put_le32(p.sec + 4, 0x1e1000); /* BFV raw > memory size */
	expect_bad(&p, EINVAL, "exceeds MemoryDataSize");
	put_le32(p.sec + 32 * 2 + 4, 0x1000); /* TempMem with raw data */
	expect_bad(&p, EINVAL, "must not carry raw data");
	put_le32(p.sec + 32 + 4, 0); /* CFV without raw data */
	expect_bad(&p, EINVAL, "no raw data");
	put_le32(p.sec + 32 * 2 + 24, 9);
	expect_bad(&p, EINVAL, "unknown type 9");
	put_le32(p.sec + 28, 3); /* BFV: MR.EXTEND | PAGE.AUG */
	expect_bad(&p, EINVAL, "both MR.EXTEND and PAGE.AUG");
	put_le32(p.sec + 28, 0x10);
	expect_bad(&p, EINVAL, "unknown attribute bits");
	put_le32(p.sec + 32 * 3 + 24, TDVF_TD_HOB); /* second TD_HOB */
	expect_bad(&p, EINVAL, "TD_HOB sections");
	put_le32(p.sec + 24, TDVF_CFV); /* no BFV left */
	expect_bad(&p, EINVAL, "no BFV");
	put_le64(p.sec + 16, 0x40001000ull); /* BFV of more than 1 GiB */
	expect_bad(&p, EINVAL, "exceeds");
	fw_free(&p.orig);

	/* not an OVMF image at all */
	static uint8_t zeros[64 << 10];
	struct fw_image z;
	struct tdvf_metadata md;

	assert_int_equal(fw_from_bytes(zeros, sizeof(zeros), "zero.fd", &z), 0);
	assert_int_equal(fw_tdvf_parse(&z, &md), -ENOENT);
	assert_non_null(strstr(err_msg(), "zero.fd: no OVMF footer GUID table"));
}

/* ---- CLI ---- */

static void test_cli_bad_firmware(void **state)
{
	struct patched p;
	struct inproc_result r;
	char path[] = "/tmp/cvmm-tdx-bad-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	patched_open(&p);
	put_le64(p.sec + 8, 0xffe20800);
	assert_int_equal(file_write(path, p.img, p.fw.size), 0);
	char *argv[] = { "measure", "--platform", "tdx", "--firmware", path, NULL };
	run_cli(&r, 5, argv);
	assert_int_equal(r.rc, 2);
	assert_string_equal(r.out, "");
	assert_int_equal(count_lines(r.err), 1);
	assert_true(!strncmp(r.err, "cvmm measure: ", 14));
	assert_non_null(strstr(r.err, "not 4 KiB aligned"));

	/* a non-TDX OVMF-like image: the SEV metadata only */
	p.ent[2 + 4] ^= 0xff;
	assert_int_equal(file_write(path, p.img, p.fw.size), 0);
	run_cli(&r, 5, argv);
	assert_int_equal(r.rc, 2);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "no TDVF metadata"));
	unlink(path);
	fw_free(&p.orig);

	char *missing[] = { "measure", "--mode", "tdx", "--ovmf", "/nonexistent/x.fd", NULL };
	run_cli(&r, 5, missing);
	assert_int_equal(r.rc, 2);
	assert_string_equal(r.out, "");
	assert_int_equal(count_lines(r.err), 1);
}

static void test_cli_usage_errors(void **state)
{
	struct inproc_result r;
	char *bad_variant[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--mrtd-variant", "3pass", NULL };
	char *bad_platform[] = { "measure", "--platform", "snp", "--firmware", BOOKWORM, NULL };
	char *no_fw[] = { "measure", "--platform", "tdx", NULL };
	char *bad_hex[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--mrowner", "abcd", NULL };
	char *bad_mem[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--mem", "4M", NULL };
	char *unknown[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--frobnicate", NULL };
	char *no_kernel[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--initrd", BOOKWORM, NULL };
	char *bad_kernel[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--kernel", "/nonexistent/vmlinuz", NULL };
	char *help[] = { "measure", "--platform", "tdx", "--help", NULL };
	struct { char **argv; int argc; const char *needle; } cases[] = {
		{ bad_variant, 7, "--mrtd-variant" }, { bad_platform, 5, "not tdx" },
		{ no_fw, 3, "--firmware" },           { bad_hex, 7, "--mrowner" },
		{ bad_mem, 7, "--mem" },              { unknown, 6, "--frobnicate" },
		{ no_kernel, 7, "need --kernel" },    { bad_kernel, 7, "/nonexistent/vmlinuz" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		run_cli(&r, cases[i].argc, cases[i].argv);
		assert_int_equal(r.rc, 2);
		assert_string_equal(r.out, "");
		assert_int_equal(count_lines(r.err), 1);
		if (!strstr(r.err, cases[i].needle))
			fail_msg("case %zu: '%s' lacks '%s'", i, r.err, cases[i].needle);
	}
	run_cli(&r, 4, help);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "--mrtd-variant"));
}

static void test_cli_outputs(void **state)
{
	struct inproc_result r;
	char id[97];
	char *plain[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--mrtd-variant", "two-pass", NULL };
	char *json[] = { "measure", "--mode", "tdx", "--ovmf", INTELTDX, "--json", "--mem", "4G", "--vcpus", "4",
			 "--mrconfigid", id, NULL };
	char *trace[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--trace", NULL };
	json_error_t jerr;
	json_t *j;

	(void)state;
	run_cli(&r, 7, plain);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1\n");
	assert_string_equal(r.err, "");

	/* -o: the result goes to the file, nothing to stdout */
	char opath[] = "/tmp/cvmm-tdx-out-XXXXXX";
	int ofd = mkstemp(opath);
	assert_true(ofd >= 0);
	close(ofd);
	char *to_file[] = { "measure", "--platform=tdx", "--firmware", BOOKWORM, "-o", opath, NULL };
	run_cli(&r, 6, to_file);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "");
	char *written = read_text(opath);
	assert_string_equal(written, "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47\n");
	free(written);
	unlink(opath);

	/* direct boot goes to RTMRs: same MRTD */
	char *boot[] = { "measure", "--platform", "tdx", "--firmware", BOOKWORM, "--mrtd-variant", "two-pass",
			 "--kernel", FIXDIR "boot/vmlinuz-6.1.0-56-cloud-amd64", "--append", "console=ttyS0", NULL };
	run_cli(&r, 11, boot);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1\n");

	memset(id, 'a', 96);
	id[96] = 0;
	run_cli(&r, 12, json);
	assert_int_equal(r.rc, 0);
	j = json_loads(r.out, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "mrtd")),
			    "a7a1f751abc454f9cbab198ca8d2edb2821935df525c74182b5e776cb0929e8c59aefecce725b0d08a5e9d3d3183bd08");
	assert_string_equal(json_string_value(json_object_get(j, "mrtd_variant")), "single-pass");
	assert_string_equal(json_string_value(json_object_get(j, "mrconfigid")), id);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "mrowner"))), 96);
	assert_int_equal(strspn(json_string_value(json_object_get(j, "mrownerconfig")), "0"), 96);
	assert_int_equal(json_integer_value(json_object_get(j, "mem")), 4ll << 30);
	assert_int_equal(json_integer_value(json_object_get(j, "vcpus")), 4);
	assert_int_equal(json_array_size(json_object_get(j, "tdvf_sections")), 6);
	json_decref(j);

	/* --trace: bookworm has 0x200 extended pages (BFV) ... */
	FILE *fo = tmpfile();
	int se = dup(2);
	char line[128];
	size_t adds = 0, exts = 0;

	fflush(stderr);
	dup2(fileno(fo), 2);
	int rc = tdx_cli_measure(6, trace);
	fflush(stderr);
	dup2(se, 2);
	close(se);
	assert_int_equal(rc, 0);
	rewind(fo);
	assert_non_null(fgets(line, sizeof(line), fo));
	assert_string_equal(line, "0x0000ffe20000 ADD BFV\n");
	assert_non_null(fgets(line, sizeof(line), fo));
	assert_string_equal(line, "0x0000ffe20000 EXTEND BFV\n");
	rewind(fo);
	while (fgets(line, sizeof(line), fo)) {
		adds += strstr(line, " ADD ") != NULL;
		exts += strstr(line, " EXTEND ") != NULL;
	}
	fclose(fo);
	/* every page of all six sections is added; only BFV (0x1e0 pages) is extended */
	assert_int_equal(adds, (0x1e0000 + 0x20000 + 0x10000 + 0x2000 + 0x2000 + 0x6000) / 4096);
	assert_int_equal(exts, 0x1e0000 / 256);
}

/* The same through the cvmm binary and its `measure` dispatcher. */
static void test_cvmm_binary(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, (const char *const[]){ "measure", "--platform", "tdx", "--firmware", INTELTDX, NULL });
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "a7a1f751abc454f9cbab198ca8d2edb2821935df525c74182b5e776cb0929e8c59aefecce725b0d08a5e9d3d3183bd08\n");
	cli_free(&r);
	cli_run(&r, (const char *const[]){ "measure", "--mode", "tdx", "--ovmf", "tests/fixtures/measure/README.md", NULL });
	assert_int_equal(r.code, 2);
	assert_string_equal(r.out, "");
	cli_free(&r);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (cli_locate(argv[0]))
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_tsv),
		cmocka_unit_test(test_mrtd_independent_of_mem),
		cmocka_unit_test(test_variants_on_small_plan),
		cmocka_unit_test(test_tdvf_sections),
		cmocka_unit_test(test_td_hob_layout),
		cmocka_unit_test(test_tdvf_malformed),
		cmocka_unit_test(test_cli_bad_firmware),
		cmocka_unit_test(test_cli_usage_errors),
		cmocka_unit_test(test_cli_outputs),
		cmocka_unit_test(test_cvmm_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
