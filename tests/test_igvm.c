/* IGVM: `cvmm measure --igvm` and `cvmm show --igvm`.
 *
 * No IGVM file built by a public toolchain (COCONUT-SVSM's igvmbuilder,
 * which needs a Rust build with network crates) could be made on this
 * machine, and no published one was found, so the files here come from a
 * test-side generator written from the format definition (microsoft/igvm
 * igvm_defs: fixed header, variable headers padded to 8, CRC32 checksum,
 * absolute file offsets), and the digests are checked two ways: against an
 * independent PAGE_INFO fold in this file, and - for an IGVM file that
 * describes exactly sev-snp-measure's SVSM launch (OVMF, SVSM, its metadata
 * pages, two VMSAs) - against sev-snp-measure's own vector for that launch,
 * which its authors measured on SNP hardware. */
#include <errno.h>
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
#include <zlib.h>

#include "common/common.h"
#include "firmware/firmware.h"
#include "sev/igvm.h"
#include "sev/sev.h"
#include "cli_run.h"

#define SSM "tests/fixtures/measure/sev-snp-measure/"
#define SVSM_VEC2 "9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7"

static char tmpdir[] = "/tmp/cvmm-igvm-XXXXXX";
static char *out_text, *err_text;

/* ---------------- generator (from igvm_defs) ---------------- */
struct gen {
	struct bytebuf vh, data;
	size_t patch[1 << 16]; /* offsets in vh of file_offset fields holding data-relative offsets (+1) */
	size_t n_patch;
};

static void hdr(struct gen *g, uint32_t type, const uint8_t *body, uint32_t len)
{
	uint8_t h[8], pad[8] = {0};

	put_le32(h, type);
	put_le32(h + 4, len);
	assert_int_equal(bb_append(&g->vh, h, 8), 0);
	assert_int_equal(bb_append(&g->vh, body, len), 0);
	assert_int_equal(bb_append(&g->vh, pad, (8 - len % 8) % 8), 0);
}

/* body[off] holds a file offset to data (NULL: 0) */
static void hdr_with_data(struct gen *g, uint32_t type, uint8_t *body, uint32_t len, size_t off, const uint8_t *d,
			  size_t n)
{
	if (d) {
		put_le32(body + off, (uint32_t)g->data.len);
		g->patch[g->n_patch++] = g->vh.len + 8 + off;
		assert_int_equal(bb_append(&g->data, d, n), 0);
	}
	hdr(g, type, body, len);
}

static void g_platform(struct gen *g, uint32_t mask, uint8_t type)
{
	uint8_t b[16] = {0};

	put_le32(b, mask);
	b[5] = type;
	put_le16(b + 6, 1);
	hdr(g, IGVM_VHT_SUPPORTED_PLATFORM, b, 16);
}

static void g_policy(struct gen *g, uint64_t policy, uint32_t mask)
{
	uint8_t b[16] = {0};

	put_le64(b, policy);
	put_le32(b + 8, mask);
	hdr(g, IGVM_VHT_GUEST_POLICY, b, 16);
}

static void g_page(struct gen *g, uint64_t gpa, uint32_t mask, uint32_t flags, uint16_t type, const uint8_t *d)
{
	uint8_t b[24] = {0};

	put_le64(b, gpa);
	put_le32(b + 8, mask);
	put_le32(b + 16, flags);
	put_le16(b + 20, type);
	hdr_with_data(g, IGVM_VHT_PAGE_DATA, b, 24, 12, d, 4096);
}

static void g_param_area(struct gen *g, uint32_t index, uint64_t bytes)
{
	uint8_t b[16] = {0};

	put_le64(b, bytes);
	put_le32(b + 8, index);
	hdr(g, IGVM_VHT_PARAMETER_AREA, b, 16);
}

static void g_param_insert(struct gen *g, uint64_t gpa, uint32_t mask, uint32_t index)
{
	uint8_t b[16] = {0};

	put_le64(b, gpa);
	put_le32(b + 8, mask);
	put_le32(b + 12, index);
	hdr(g, IGVM_VHT_PARAMETER_INSERT, b, 16);
}

static void g_vp(struct gen *g, uint64_t gpa, uint32_t mask, uint16_t vp, const uint8_t *vmsa)
{
	uint8_t b[20] = {0};

	put_le64(b, gpa);
	put_le32(b + 8, mask);
	put_le16(b + 16, vp);
	hdr_with_data(g, IGVM_VHT_VP_CONTEXT, b, 20, 12, vmsa, 4096);
}

static void g_id_block(struct gen *g, uint32_t mask, const uint8_t ld[48])
{
	uint8_t b[696] = {0};

	put_le32(b, mask);
	memcpy(b + 8, ld, 48);
	put_le32(b + 88, 1);
	hdr(g, IGVM_VHT_SNP_ID_BLOCK, b, 696);
}

/* Lay out {fixed header, variable headers, data}, patch offsets, checksum. */
static uint8_t *g_finish(struct gen *g, size_t *len)
{
	size_t vh_off = 24, data_start = vh_off + g->vh.len, total = data_start + g->data.len;
	uint8_t *f = calloc(1, total);
	uLong crc;

	assert_non_null(f);
	for (size_t i = 0; i < g->n_patch; i++)
		put_le32(g->vh.data + g->patch[i], (uint32_t)(le32(g->vh.data + g->patch[i]) + data_start));
	put_le32(f, 0x4D564749);
	put_le32(f + 4, 1);
	put_le32(f + 8, (uint32_t)vh_off);
	put_le32(f + 12, (uint32_t)g->vh.len);
	put_le32(f + 16, (uint32_t)total);
	memcpy(f + vh_off, g->vh.data, g->vh.len);
	if (g->data.len)
		memcpy(f + data_start, g->data.data, g->data.len);
	crc = crc32(crc32(0L, Z_NULL, 0), f, (uInt)data_start);
	put_le32(f + 20, (uint32_t)crc);
	bb_free(&g->vh);
	bb_free(&g->data);
	g->n_patch = 0;
	*len = total;
	return f;
}

/* ---------------- an independent PAGE_INFO fold ---------------- */
static void sha384(const void *d, size_t n, uint8_t out[48])
{
	assert_int_equal(EVP_Digest(d, n, out, NULL, EVP_sha384(), NULL), 1);
}

/* type: 1 normal, 2 vmsa, 3 zero, 4 unmeasured, 5 secrets, 6 cpuid */
static void fold(uint8_t ld[48], int type, uint64_t gpa, const uint8_t *page)
{
	uint8_t pi[0x70] = {0};
	static const uint8_t zeros[4096];

	memcpy(pi, ld, 48);
	if (type == 1 || type == 2)
		sha384(page ? page : zeros, 4096, pi + 48);
	pi[96] = 0x70;
	pi[98] = (uint8_t)type;
	for (int i = 0; i < 8; i++)
		pi[104 + i] = (uint8_t)(gpa >> (8 * i));
	sha384(pi, sizeof(pi), ld);
}

static void write_tmp(const char *name, const uint8_t *d, size_t n, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", tmpdir, name);
	assert_int_equal(file_write(path, d, n), 0);
}

static int runv(const char *cmd, const char *const *argv)
{
	const char *args[64] = { cmd };
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
#define MEASURE(...) runv("measure", (const char *const[]){ __VA_ARGS__, NULL })
#define SHOW(...) runv("show", (const char *const[]){ __VA_ARGS__, NULL })

static void expect_hex(const uint8_t *d, size_t n)
{
	char hex[100];

	hex_encode(d, n, hex);
	strcat(hex, "\n");
	if (strcmp(out_text, hex))
		fprintf(stderr, "stderr: %s", err_text);
	assert_string_equal(out_text, hex);
}

/* sev-snp-measure's SVSM launch (2 vCPUs) written as an IGVM file. */
static void test_svsm_launch_as_igvm(void **state)
{
	static struct gen g;
	struct fw_image ovmf, svsm;
	struct fw_sev_info info;
	uint8_t vmsa[4096], *file, ld[48] = {0};
	uint32_t eip;
	size_t len;
	char path[4200];

	(void)state;
	assert_int_equal(fw_load(SSM "svsm_ovmf.fd", &ovmf), 0);
	assert_int_equal(fw_load(SSM "svsm.bin", &svsm), 0);
	assert_int_equal(sev_svsm_place(&ovmf, 540672, &svsm), 0);
	assert_int_equal(fw_sev_parse(&svsm, &info), 0);
	assert_int_equal(sev_svsm_entry(&svsm, &eip), 0);
	sev_svsm_vmsa_build(vmsa, eip, 0x800f12); /* EPYC-v4 */

	g_platform(&g, 0x1, IGVM_PLATFORM_SEV_SNP);
	g_policy(&g, 0x30000, 0x1);
	for (size_t off = 0; off < ovmf.size; off += 4096)
		g_page(&g, ovmf.base_gpa + off, 1, 0, IGVM_PAGE_NORMAL, ovmf.data + off);
	for (size_t off = 0; off < svsm.size; off += 4096)
		g_page(&g, svsm.base_gpa + off, 1, 0, IGVM_PAGE_NORMAL, svsm.data + off);
	for (size_t i = 0; i < info.n_sections; i++) {
		const struct fw_sev_section *s = &info.sections[i];

		for (uint32_t off = 0; off < s->size; off += 4096)
			g_page(&g, s->gpa + off, 1, 0,
			       s->type == FW_SEV_SNP_SECRETS ? IGVM_PAGE_SECRETS
			       : s->type == FW_SEV_CPUID     ? IGVM_PAGE_CPUID_DATA
							     : IGVM_PAGE_NORMAL, NULL);
	}
	g_vp(&g, SNP_VMSA_GPA, 1, 0, vmsa);
	g_vp(&g, SNP_VMSA_GPA, 1, 1, vmsa);
	file = g_finish(&g, &len);
	write_tmp("svsm.igvm", file, len, path, sizeof(path));

	/* two VMSAs with CR0 0x11: not what QEMU/KVM launches */
	assert_int_equal(MEASURE("--igvm", path, "--check-kvm"), 2);
	assert_non_null(strstr(err_text, "--check-kvm: VMSA CR0 0x11"));
	/* zero pages as SNP ZERO pages: exactly the launch sev-snp-measure predicts */
	assert_int_equal(MEASURE("--igvm", path, "--native-zero"), 0);
	assert_string_equal(out_text, SVSM_VEC2 "\n");
	/* igvmmeasure's default: pages without data are NORMAL pages of zeros */
	for (size_t off = 0; off < ovmf.size; off += 4096)
		fold(ld, 1, ovmf.base_gpa + off, ovmf.data + off);
	for (size_t off = 0; off < svsm.size; off += 4096)
		fold(ld, 1, svsm.base_gpa + off, svsm.data + off);
	for (size_t i = 0; i < info.n_sections; i++)
		for (uint32_t off = 0; off < info.sections[i].size; off += 4096)
			fold(ld, info.sections[i].type == FW_SEV_SNP_SECRETS ? 5 : info.sections[i].type == FW_SEV_CPUID ? 6 : 1,
			     info.sections[i].gpa + off, NULL);
	fold(ld, 2, SNP_VMSA_GPA, vmsa);
	fold(ld, 2, SNP_VMSA_GPA, vmsa);
	assert_int_equal(MEASURE("--igvm", path), 0);
	expect_hex(ld, 48);
	/* the same file through a pipe-like path is covered by file_read_any; JSON */
	assert_int_equal(MEASURE("--igvm", path, "--native-zero", "--json"), 0);
	json_t *j = json_loads(out_text, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "digest")), SVSM_VEC2);
	assert_int_equal(json_integer_value(json_object_get(j, "vmsas")), 2);
	json_decref(j);

	assert_int_equal(SHOW("--igvm", path), 0);
	assert_non_null(strstr(out_text, "IGVM format version 1"));
	assert_non_null(strstr(out_text, "SUPPORTED_PLATFORM SEV_SNP version 1 mask 0x1"));
	assert_non_null(strstr(out_text, "GUEST_POLICY 0x30000 mask 0x1"));
	assert_non_null(strstr(out_text, "PAGE_DATA gpa 0xffc84000 pages 892 (4K) NORMAL data mask 0x1"));
	assert_non_null(strstr(out_text, "SECRETS zero"));
	assert_non_null(strstr(out_text, "VP_CONTEXT vp 1 gpa 0xfffffffff000 mask 0x1 (SEV VMSA)"));
	unlink(path);
	free(file);
	fw_free(&ovmf);
	fw_free(&svsm);
}

/* A file for three platforms with every kind of directive. */
static uint8_t page_a[4096], page_b[4096], vmsa_snp[4096], vmsa_es[4096];

static uint8_t *mixed(const uint8_t *id_ld, size_t *len)
{
	static struct gen g;

	for (int i = 0; i < 4096; i++) {
		page_a[i] = (uint8_t)i;
		page_b[i] = (uint8_t)(i * 7 + 3);
		vmsa_snp[i] = (uint8_t)(i ^ 0x5a);
		vmsa_es[i] = (uint8_t)(i ^ 0xa5);
	}
	put_le64(vmsa_snp + 0x158, 0x31); /* CR0 as KVM sets it (--check-kvm) */
	put_le64(vmsa_es + 0x158, 0x31);
	g_platform(&g, 0x1, IGVM_PLATFORM_SEV_SNP);
	g_platform(&g, 0x2, IGVM_PLATFORM_SEV_ES);
	g_platform(&g, 0x4, IGVM_PLATFORM_TDX);
	g_policy(&g, 0x30000, 0x1);
	g_param_area(&g, 0, 0x2000);
	g_param_area(&g, 1, 0x2000);
	g_page(&g, 0x100000, 0x7, 0, IGVM_PAGE_NORMAL, page_a);              /* all platforms */
	g_page(&g, 0x101000, 0x1, 0, IGVM_PAGE_NORMAL, page_b);              /* SNP only */
	g_page(&g, 0x102000, 0x2, 0, IGVM_PAGE_NORMAL, page_b);              /* SEV-ES only */
	g_page(&g, 0x103000, 0x3, 0, IGVM_PAGE_NORMAL, NULL);                /* zero */
	g_page(&g, 0x104000, 0x1, IGVM_PAGE_F_UNMEASURED, IGVM_PAGE_NORMAL, page_a);
	g_page(&g, 0x105000, 0x1, 0, IGVM_PAGE_SECRETS, NULL);
	g_page(&g, 0x106000, 0x1, 0, IGVM_PAGE_CPUID_DATA, NULL);
	g_page(&g, 0x107000, 0x1, 0, IGVM_PAGE_CPUID_XF, NULL);
	g_page(&g, 0x200000, 0x1, IGVM_PAGE_F_2MB, IGVM_PAGE_NORMAL, NULL);  /* 512 zero pages */
	g_param_insert(&g, 0x400000, 0x1, 0);
	/* TDX only */
	g_page(&g, 0x500000, 0x4, IGVM_PAGE_F_UNMEASURED, IGVM_PAGE_NORMAL, page_b);
	g_page(&g, 0x501000, 0x4, 0, IGVM_PAGE_NORMAL, NULL);
	g_page(&g, 0x502000, 0x4, IGVM_PAGE_F_SHARED, IGVM_PAGE_NORMAL, page_b);
	g_param_insert(&g, 0x600000, 0x4, 1);
	g_vp(&g, SNP_VMSA_GPA, 0x1, 0, vmsa_snp);
	g_vp(&g, SNP_VMSA_GPA, 0x2, 0, vmsa_es);
	if (id_ld)
		g_id_block(&g, 0x1, id_ld);
	return g_finish(&g, len);
}

static void mixed_expected(uint8_t ld[48], uint8_t es[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(ld, 0, 48);
	fold(ld, 1, 0x100000, page_a);
	fold(ld, 1, 0x101000, page_b);
	fold(ld, 1, 0x103000, NULL);
	fold(ld, 4, 0x104000, NULL);
	fold(ld, 5, 0x105000, NULL);
	fold(ld, 6, 0x106000, NULL);
	fold(ld, 6, 0x107000, NULL);
	for (uint64_t off = 0; off < (2u << 20); off += 4096)
		fold(ld, 1, 0x200000 + off, NULL);
	fold(ld, 4, 0x400000, NULL);
	/* igvmmeasure measures every SEV VMSA in the file */
	fold(ld, 2, SNP_VMSA_GPA, vmsa_snp);
	fold(ld, 2, SNP_VMSA_GPA, vmsa_es);
	/* SEV-ES: SHA-256 of the pages with data for its mask, then the VMSAs */
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, page_a, 4096);
	EVP_DigestUpdate(c, page_b, 4096);
	EVP_DigestUpdate(c, vmsa_snp, 4096);
	EVP_DigestUpdate(c, vmsa_es, 4096);
	EVP_DigestFinal_ex(c, es, NULL);
	EVP_MD_CTX_free(c);
}

/* MRTD records (TDX module spec; microsoft/igvm measurement/tdx.rs) */
static void tdx_add(EVP_MD_CTX *c, uint64_t gpa)
{
	uint8_t r[128] = "MEM.PAGE.ADD";

	put_le64(r + 16, gpa);
	EVP_DigestUpdate(c, r, sizeof(r));
}

static void tdx_extend(EVP_MD_CTX *c, uint64_t gpa, const uint8_t *page)
{
	static const uint8_t zeros[4096];

	for (unsigned off = 0; off < 4096; off += 256) {
		uint8_t r[128 + 256] = "MR.EXTEND";

		put_le64(r + 16, gpa + off);
		memcpy(r + 128, (page ? page : zeros) + off, 256);
		EVP_DigestUpdate(c, r, sizeof(r));
	}
}

static void mixed_mrtd(uint8_t mrtd[48])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	EVP_DigestInit_ex(c, EVP_sha384(), NULL);
	tdx_add(c, 0x100000);
	tdx_extend(c, 0x100000, page_a);
	tdx_add(c, 0x500000);             /* unmeasured: added, not extended */
	tdx_add(c, 0x501000);
	tdx_extend(c, 0x501000, NULL);    /* no data: zeros extended */
	tdx_add(c, 0x600000);             /* the parameter area, page by page */
	tdx_add(c, 0x601000);
	EVP_DigestFinal_ex(c, mrtd, NULL);
	EVP_MD_CTX_free(c);
}

static void test_directives(void **state)
{
	uint8_t ld[48], es[32], wrong[48] = { 1 }, *file;
	size_t len;
	char path[4200], path2[4200];

	(void)state;
	file = mixed(NULL, &len);
	mixed_expected(ld, es);
	write_tmp("mixed.igvm", file, len, path, sizeof(path));
	free(file);
	assert_int_equal(MEASURE("--igvm", path), 0);
	expect_hex(ld, 48);
	assert_int_equal(MEASURE("--igvm", path, "--check-kvm"), 2);
	assert_non_null(strstr(err_text, "more than one VMSA"));
	assert_int_equal(MEASURE("--igvm", path, "--platform", "sev-es"), 0);
	expect_hex(es, 32);
	uint8_t mrtd[48];

	mixed_mrtd(mrtd);
	assert_int_equal(MEASURE("--igvm", path, "--platform", "tdx"), 0);
	expect_hex(mrtd, 48);
	assert_int_equal(MEASURE("--igvm", path, "--platform", "sev"), 2);
	assert_non_null(strstr(err_text, "not compatible with the specified platform"));

	/* an ID block whose digest matches passes; one that differs fails,
	 * unless --ignore-idblock */
	file = mixed(ld, &len);
	write_tmp("id.igvm", file, len, path2, sizeof(path2));
	free(file);
	assert_int_equal(MEASURE("--igvm", path2), 0);
	expect_hex(ld, 48);
	assert_int_equal(SHOW("--igvm", path2), 0);
	assert_non_null(strstr(out_text, "SNP_ID_BLOCK mask 0x1 author_key no ld "));
	assert_non_null(strstr(out_text, "PARAMETER_INSERT index 0 gpa 0x400000"));
	assert_non_null(strstr(out_text, "PAGE_DATA gpa 0x200000 pages 1 (2M) NORMAL zero mask 0x1"));
	assert_non_null(strstr(out_text, "SUPPORTED_PLATFORM TDX"));
	assert_non_null(strstr(out_text, "PAGE_DATA gpa 0x502000 pages 1 (4K) NORMAL data shared mask 0x4"));
	file = mixed(wrong, &len);
	write_tmp("id.igvm", file, len, path2, sizeof(path2));
	free(file);
	assert_int_equal(MEASURE("--igvm", path2), 2);
	assert_string_equal(out_text, "");
	assert_non_null(strstr(err_text, "SNP ID block expects digest 01000000"));
	assert_int_equal(MEASURE("--igvm", path2, "--ignore-idblock"), 0);
	expect_hex(ld, 48);
	unlink(path2);

	/* the file through a pipe (/dev/fd/N): read once, the same digest */
	int pfd[2];
	pid_t w;
	char fdpath[32];

	assert_int_equal(pipe(pfd), 0);
	w = fork();
	assert_true(w >= 0);
	if (w == 0) {
		uint8_t *d;
		size_t n, off = 0;

		close(pfd[0]);
		if (file_read(path, 1u << 24, &d, &n))
			_exit(1);
		while (off < n) {
			ssize_t k = write(pfd[1], d + off, n - off);

			if (k <= 0)
				_exit(2);
			off += (size_t)k;
		}
		_exit(0);
	}
	close(pfd[1]);
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", pfd[0]);
	assert_int_equal(MEASURE("--igvm", fdpath), 0);
	close(pfd[0]);
	int st;
	assert_int_equal(waitpid(w, &st, 0), w);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	expect_hex(ld, 48);
	unlink(path);
}

/* Malformed files: one clear error each, nothing on stdout. */
static void test_bad_files(void **state)
{
	uint8_t *file, *bad;
	size_t len;
	struct igvm f;
	static struct gen g;

	(void)state;
	file = mixed(NULL, &len);
	bad = malloc(len);
	assert_non_null(bad);
#define EXPECT_BAD(msg)                                                                    \
	do {                                                                               \
		assert_int_not_equal(igvm_parse(bad, len, "t.igvm", &f), 0);              \
		if (!strstr(err_msg(), msg))                                               \
			fprintf(stderr, "want '%s' in '%s'\n", msg, err_msg());            \
		assert_non_null(strstr(err_msg(), msg));                                   \
	} while (0)
	memcpy(bad, file, len);
	assert_int_equal(igvm_parse(bad, len, "t.igvm", &f), 0);
	igvm_free(&f);
	bad[0] = 'X';
	EXPECT_BAD("not an IGVM file");
	memcpy(bad, file, len);
	bad[40] ^= 1; /* inside the variable headers */
	EXPECT_BAD("checksum");
	memcpy(bad, file, len);
	assert_int_not_equal(igvm_parse(bad, len - 1, "t.igvm", &f), 0);
	assert_non_null(strstr(err_msg(), "total_file_size"));
	assert_int_not_equal(igvm_parse(bad, 10, "t.igvm", &f), 0);
	free(bad);
	free(file);

	/* a page data offset beyond the file */
	g_platform(&g, 1, IGVM_PLATFORM_SEV_SNP);
	g_page(&g, 0, 1, 0, IGVM_PAGE_NORMAL, page_a);
	file = g_finish(&g, &len);
	assert_int_equal(igvm_parse(file, len, "t.igvm", &f), 0);
	igvm_free(&f);
	put_le32(file + 16, (uint32_t)len - 1);
	assert_int_not_equal(igvm_parse(file, len - 1, "t.igvm", &f), 0); /* checksum or data range */
	free(file);

	/* headers out of stage order; an undeclared parameter area; a platform
	 * mask reused; an unknown required header; a misaligned gpa */
	g_page(&g, 0, 1, 0, IGVM_PAGE_NORMAL, NULL);
	g_platform(&g, 1, IGVM_PLATFORM_SEV_SNP);
	file = g_finish(&g, &len);
	assert_int_not_equal(igvm_parse(file, len, "t.igvm", &f), 0);
	assert_non_null(strstr(err_msg(), "comes after a later stage"));
	free(file);
	g_platform(&g, 1, IGVM_PLATFORM_SEV_SNP);
	g_param_insert(&g, 0, 1, 3);
	file = g_finish(&g, &len);
	assert_int_not_equal(igvm_parse(file, len, "t.igvm", &f), 0);
	assert_non_null(strstr(err_msg(), "parameter area 3 was not declared"));
	free(file);
	g_platform(&g, 1, IGVM_PLATFORM_SEV_SNP);
	g_platform(&g, 1, IGVM_PLATFORM_SEV_ES);
	file = g_finish(&g, &len);
	assert_int_not_equal(igvm_parse(file, len, "t.igvm", &f), 0);
	assert_non_null(strstr(err_msg(), "reuses compatibility mask"));
	free(file);
	g_platform(&g, 1, IGVM_PLATFORM_SEV_SNP);
	hdr(&g, 0x3ff, page_a, 8);
	hdr(&g, 0x3ff | IGVM_VHT_OPTIONAL, page_a, 8);
	file = g_finish(&g, &len);
	assert_int_not_equal(igvm_parse(file, len, "t.igvm", &f), 0);
	assert_non_null(strstr(err_msg(), "unknown type 0x3ff"));
	free(file);
	g_platform(&g, 1, IGVM_PLATFORM_SEV_SNP);
	hdr(&g, 0x3ff | IGVM_VHT_OPTIONAL, page_a, 8); /* optional: skipped */
	g_page(&g, 0x1800, 1, 0, IGVM_PAGE_NORMAL, NULL);
	file = g_finish(&g, &len);
	assert_int_not_equal(igvm_parse(file, len, "t.igvm", &f), 0);
	assert_non_null(strstr(err_msg(), "not aligned"));
	free(file);

	/* TDX: a 2 MiB page is refused (the reference measures only 4 KiB of it) */
	g_platform(&g, 1, IGVM_PLATFORM_TDX);
	g_page(&g, 0x200000, 1, IGVM_PAGE_F_2MB, IGVM_PAGE_NORMAL, NULL);
	file = g_finish(&g, &len);
	assert_int_equal(igvm_parse(file, len, "t.igvm", &f), 0);
	struct igvm_measurement m;
	struct igvm_measure_opts o = { .platform = IGVM_PLATFORM_TDX };
	assert_int_equal(igvm_measure(&f, &o, &m, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err_msg(), "2 MiB pages are not measured for TDX"));
	o.platform = IGVM_PLATFORM_SEV_SNP;
	assert_int_equal(igvm_measure(&f, &o, &m, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err_msg(), "not compatible with the specified platform"));
	igvm_free(&f);
	free(file);

	/* through the CLI: one line, exit 2 */
	assert_int_equal(MEASURE("--igvm", SSM "svsm.bin"), 2);
	assert_string_equal(out_text, "");
	assert_non_null(strstr(err_text, "cvmm measure: " SSM "svsm.bin: not an IGVM file"));
	assert_int_equal(SHOW("--igvm", "/nonexistent.igvm"), 2);
	assert_non_null(strstr(err_text, "cvmm show: /nonexistent.igvm"));
}

static int setup(void **state)
{
	(void)state;
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
		cmocka_unit_test(test_svsm_launch_as_igvm),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_bad_files),
	};
	(void)argc;
	if (cli_locate(argv[0]))
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
