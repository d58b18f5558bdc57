/* Unit tests: the sim-tdx software TDX module (tdx/sim_*.c): the key store
 * (made once, reused, 0600/0700, a damaged file is an error naming it), the
 * MRTD of a sim-tdx launch (`cvmm run` and `cvmm measure --platform sim-tdx`
 * fold the same plan, as an independent fold of the TDX records says, and
 * it changes with every input), TD quotes read back by the verifier's own
 * parser field by field, verification (affirming and marked simulated with
 * allow_sim or the pinned root, contraindicated without), RTMR extension =
 * SHA-384(old || digest) with a CCEL that replays to the RTMRs, and the sim
 * channel over a unix socket (quote, RTMR extend, an SNP request answered
 * with PLATFORM_RSP, malformed requests answered with STATUS 0x16). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "attestation/attestation.h"
#include "attestation/tdx_quote.h"
#include "common/common.h"
#include "measured-boot/measured_boot.h"
#include "tdx/sim_wire.h"
#include "tdx/tdx.h"
#include "tests/att_checks.h"
#include "tests/cli_run.h"
#include "vmm/confine/confine.h"
#include "vmm/vmm.h"
#include "vmm/vmm_core.h"

#define KERNEL "tests/fixtures/measure/boot/vmlinuz-6.1.0-56-cloud-amd64"
#define INITRD "tests/fixtures/measure/boot/initrd-fixture.cpio.gz"
#define MEM (256ull << 20)

static const char *const files[] = { "root.pem", "root.key", "pck-ca.pem", "pck-ca.key", "pck.pem", "pck.key",
				     "ak.key" };

struct fixture {
	char tmp[256], store[300];
	struct tdx_sim *s;
	uint8_t mrtd[48], cfg[48];
};

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");

	assert_non_null(f);
	snprintf(f->tmp, sizeof(f->tmp), "%s/cvmm-sim-tdx-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->store, sizeof(f->store), "%s/state/sim-tdx", f->tmp);
	if (tdx_sim_open(f->store, &f->s))
		fail_msg("tdx_sim_open: %s", err_msg());
	fill(f->mrtd, 48, 0x10);
	fill(f->cfg, 48, 0x40);
	assert_int_equal(tdx_sim_launch(f->s, f->mrtd, f->cfg), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];

	tdx_sim_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- key store ---- */

static void test_store_made_once(void **state)
{
	struct fixture *f = *state;
	struct tdx_sim *again;
	char *pem1, *pem2, path[400];
	size_t p1, p2;
	struct stat st;

	assert_int_equal(stat(f->store, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->store, files[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	assert_int_equal(tdx_sim_open(f->store, &again), 0);
	assert_int_equal(tdx_sim_root_pem(f->s, &pem1, &p1), 0);
	assert_int_equal(tdx_sim_root_pem(again, &pem2, &p2), 0);
	assert_int_equal(p1, p2);
	assert_memory_equal(pem1, pem2, p1);
	assert_non_null(strstr(pem1, "-----BEGIN CERTIFICATE-----"));
	/* before any launch there is nothing to quote or extend */
	{
		uint8_t rd[64] = { 0 }, d[48] = { 0 };
		struct bytebuf q = { 0 };

		assert_int_equal(tdx_sim_quote(again, rd, &q, NULL), -ENODATA);
		assert_non_null(strstr(err_msg(), "launched"));
		assert_int_equal(tdx_sim_rtmr_extend(again, 2, d, NULL, 0, NULL), -ENODATA);
		assert_int_equal(q.len, 0);
	}
	free(pem1);
	free(pem2);
	tdx_sim_close(again);
}

static void expect_damaged(struct fixture *f, const char *name, bool remove_it)
{
	char dir[400], cmd[1000], path[500];
	struct tdx_sim *s = NULL;

	snprintf(dir, sizeof(dir), "%s/damaged-%s", f->tmp, name);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", f->store, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (remove_it)
		assert_int_equal(unlink(path), 0);
	else
		assert_int_equal(truncate(path, 40), 0);
	assert_true(tdx_sim_open(dir, &s) < 0);
	assert_null(s);
	assert_non_null(strstr(err_msg(), name));
}

static void test_store_damaged(void **state)
{
	struct fixture *f = *state;

	expect_damaged(f, "pck.pem", false);
	expect_damaged(f, "ak.key", false);
	expect_damaged(f, "root.key", true);
}

/* ---- MRTD of the launch plan ---- */

/* An independent fold: one SHA-384 over the TDX module's 128-byte records,
 * per page MEM.PAGE.ADD then 16 MR.EXTENDs with their 256 bytes. */
static void fold_records(const struct launch_plan *p, uint8_t out[48])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t rec[128];

	assert_true(EVP_DigestInit_ex(md, EVP_sha384(), NULL));
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *s = &p->steps[i];

		assert_int_equal(s->gpa % 4096, 0);
		assert_int_equal(s->len % 4096, 0);
		for (uint64_t off = 0; off < s->len; off += 4096) {
			memset(rec, 0, sizeof(rec));
			memcpy(rec, "MEM.PAGE.ADD", 12);
			put_le64(rec + 16, s->gpa + off);
			assert_true(EVP_DigestUpdate(md, rec, sizeof(rec)));
			for (unsigned c = 0; c < 4096; c += 256) {
				memset(rec, 0, sizeof(rec));
				memcpy(rec, "MR.EXTEND", 9);
				put_le64(rec + 16, s->gpa + off + c);
				assert_true(EVP_DigestUpdate(md, rec, sizeof(rec)));
				assert_true(EVP_DigestUpdate(md, s->data + off + c, 256));
			}
		}
	}
	assert_true(EVP_DigestFinal_ex(md, out, NULL));
	EVP_MD_CTX_free(md);
}

static void test_mrtd_run_equals_measure(void **state)
{
	uint8_t *kernel, *initrd, run[48], indep[48], m1[48], d[48];
	size_t klen, ilen;
	struct guest_mem m = { 0 };
	struct launch_plan plan = { 0 };
	uint64_t entry;
	const char *cmd = "console=ttyS0 quiet";

	(void)state;
	assert_int_equal(file_read(KERNEL, 64u << 20, &kernel, &klen), 0);
	assert_int_equal(file_read(INITRD, 64u << 20, &initrd, &ilen), 0);
	/* what `cvmm run --platform sim-tdx` loads (vm.c: snp_plan false) and folds */
	{
		const struct boot_inputs in = { .kernel = kernel, .kernel_len = klen, .kernel_path = KERNEL,
						.initrd = initrd, .initrd_len = ilen, .cmdline = cmd, .vcpus = 2 };

		assert_int_equal(gm_alloc(&m, MEM), 0);
		assert_int_equal(vmm_boot_plan(&m, &in, &plan, &entry), 0);
		for (size_t i = 0; i < plan.n; i++)
			assert_int_equal(plan.steps[i].kind, PLAN_NORMAL); /* no SNP pages, no VMSAs */
		assert_int_equal(tdx_sim_mrtd(&plan, NULL, run), 0);
		fold_records(&plan, indep);
		plan_free(&plan);
		gm_free(&m);
	}
	assert_memory_equal(run, indep, 48);
	/* `cvmm measure --platform sim-tdx` */
	assert_int_equal(vmm_sim_tdx_measure(kernel, klen, KERNEL, initrd, ilen, cmd, 2, MEM, NULL, m1), 0);
	assert_memory_equal(run, m1, 48);
	/* every input changes it */
	assert_int_equal(vmm_sim_tdx_measure(kernel, klen, KERNEL, initrd, ilen, "console=ttyS0 quiet x", 2, MEM, NULL, d), 0);
	assert_memory_not_equal(d, m1, 48);
	assert_int_equal(vmm_sim_tdx_measure(kernel, klen, KERNEL, initrd, ilen, cmd, 1, MEM, NULL, d), 0);
	assert_memory_not_equal(d, m1, 48);
	assert_int_equal(vmm_sim_tdx_measure(kernel, klen, KERNEL, initrd, ilen, cmd, 2, 2 * MEM, NULL, d), 0);
	assert_memory_not_equal(d, m1, 48);
	assert_int_equal(vmm_sim_tdx_measure(kernel, klen, KERNEL, NULL, 0, cmd, 2, MEM, NULL, d), 0);
	assert_memory_not_equal(d, m1, 48);
	initrd[ilen / 2] ^= 1;
	assert_int_equal(vmm_sim_tdx_measure(kernel, klen, KERNEL, initrd, ilen, cmd, 2, MEM, NULL, d), 0);
	assert_memory_not_equal(d, m1, 48);
	/* and it is not the sim-snp digest of the same launch */
	assert_int_equal(vmm_sim_snp_measure(kernel, klen, KERNEL, initrd, ilen, cmd, 2, MEM, false, d), 0);
	assert_memory_not_equal(d, m1, 48);
	free(kernel);
	free(initrd);
}

/* ---- quotes ---- */

static void quote_of(struct tdx_sim *s, const uint8_t rd[64], struct bytebuf *q, struct bytebuf *ccel)
{
	if (tdx_sim_quote(s, rd, q, ccel))
		fail_msg("tdx_sim_quote: %s", err_msg());
}

static void test_quote_fields(void **state)
{
	struct fixture *f = *state;
	uint8_t rd[64], zero[48] = { 0 }, d2[48], r2[48];
	struct bytebuf q = { 0 };
	struct tdx_quote p;

	fill(rd, 64, 0x70);
	fill(d2, 48, 0x90);
	assert_int_equal(tdx_sim_rtmr_extend(f->s, 2, d2, (const uint8_t *)"ev", 2, NULL), 0);
	assert_int_equal(tdx_rtmr_fold(zero, d2, r2), 0);
	quote_of(f->s, rd, &q, NULL);
	assert_int_equal(tdx_quote_parse(q.data, q.len, "quote", &p), 0);
	assert_int_equal(p.version, 4);
	assert_int_equal(p.att_key_type, TDX_ATT_KEY_ECDSA_P256);
	assert_int_equal(p.tee_type, TDX_TEE_TYPE);
	assert_int_equal(p.body_type, TDX_BODY_TYPE_TD10);
	assert_int_equal(p.body_len, TDX_BODY_TD10_LEN);
	assert_memory_equal(p.body + TDX_B_MRTD, f->mrtd, 48);
	assert_memory_equal(p.body + TDX_B_MRCONFIGID, f->cfg, 48);
	assert_memory_equal(p.body + TDX_B_MROWNER, zero, 48);
	assert_memory_equal(p.body + TDX_B_MROWNERCONFIG, zero, 48);
	assert_memory_equal(p.body + TDX_B_RTMR0, zero, 48);
	assert_memory_equal(p.body + TDX_B_RTMR0 + 48, zero, 48);
	assert_memory_equal(p.body + TDX_B_RTMR0 + 96, r2, 48);
	assert_memory_equal(p.body + TDX_B_RTMR0 + 144, zero, 48);
	assert_memory_equal(p.body + TDX_B_REPORT_DATA, rd, 64);
	assert_int_equal(le64(p.body + TDX_B_TD_ATTRIBUTES), 0); /* not a debug TD */
	assert_int_equal(p.signed_len, TDX_HEADER_LEN + TDX_BODY_TD10_LEN);
	assert_int_equal(p.cert_type, TDX_CERT_QE_REPORT);
	assert_int_equal(p.pck_cert_type, TDX_CERT_PCK_CHAIN);
	assert_int_equal(p.qe_auth_len, 32);
	assert_int_equal(le16(p.qe_report + SGX_R_ISVPRODID), 2);
	/* the PCK chain: leaf, PCK CA, root; the leaf's SGX extensions decode */
	{
		STACK_OF(X509) *chain;
		struct tdx_pck_ext e;
		char cn[128];

		assert_int_equal(tdx_pck_chain_load(p.pck_chain, p.pck_chain_len, &chain), 0);
		assert_int_equal(sk_X509_num(chain), 3);
		assert_int_equal(tdx_pck_ext_parse(sk_X509_value(chain, 0), &e), 0);
		assert_memory_equal(e.fmspc, "\x00\x80\x6f\x05\x00\x00", 6);
		assert_int_equal(e.pcesvn, 13);
		assert_int_equal(e.comp_svn[0], 3);
		assert_memory_equal(e.cpusvn, e.comp_svn, 16);
		X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(chain, 2)), NID_commonName, cn, sizeof(cn));
		assert_non_null(strstr(cn, "Simulated"));
		sk_X509_pop_free(chain, X509_free);
	}
	bb_free(&q);
}

static void test_quote_verifies(void **state)
{
	struct fixture *f = *state;
	uint8_t rd[64];
	struct bytebuf q = { 0 };
	struct att_options o = { 0 };
	struct att_result r;
	char *pem;
	size_t pem_len;

	fill(rd, 64, 0x33);
	quote_of(f->s, rd, &q, NULL);
	/* without allow_sim: a foreign root, contraindicated */
	assert_int_equal(att_result_init(&r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q.data, q.len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.pck_chain"));
	assert_true(result_check_ok(&r, "tdx.quote_signature")); /* well signed, but not by Intel */
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_false(r.simulated);
	att_result_free(&r);
	/* allow_sim: affirming, marked simulated; every signature checked */
	o.allow_sim = true;
	assert_int_equal(att_result_init(&r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q.data, q.len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.quote_signature"));
	assert_true(result_check_ok(&r, "tdx.qe_report_data"));
	assert_true(result_check_ok(&r, "tdx.qe_report_signature"));
	assert_true(result_check_ok(&r, "tdx.pck_chain"));
	assert_true(result_check_ok(&r, "tdx.pck_extensions"));
	assert_true(result_check_ok(&r, "tdx.root"));
	assert_true(r.simulated);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_string_equal(json_string_value(json_object_get(r.claims, "mrtd")),
			    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
	att_result_free(&r);
	/* a pinned root (cvmm sim-root --platform sim-tdx) */
	o.allow_sim = false;
	assert_int_equal(tdx_sim_root_pem(f->s, &pem, &pem_len), 0);
	assert_int_equal(att_result_init(&r, "tdx"), 0);
	assert_int_equal(att_tdx_verify_with_root(q.data, q.len, &o, pem, pem_len, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_true(r.simulated);
	att_result_free(&r);
	free(pem);
	/* a flipped body byte breaks the attestation key's signature */
	q.data[TDX_HEADER_LEN + TDX_B_MRTD] ^= 1;
	o.allow_sim = true;
	assert_int_equal(att_result_init(&r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q.data, q.len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.quote_signature"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	bb_free(&q);
}

/* The command line: cvmm verify --quote, cvmm sim-root --platform sim-tdx,
 * cvmm measure --platform sim-tdx. */
static void test_cli(void **state)
{
	struct fixture *f = *state;
	uint8_t rd[64] = { 0 };
	struct bytebuf q = { 0 };
	struct cli_result r;
	char qpath[400], root[400];

	quote_of(f->s, rd, &q, NULL);
	snprintf(qpath, sizeof(qpath), "%s/quote.bin", f->tmp);
	snprintf(root, sizeof(root), "%s/root.pem", f->tmp);
	assert_int_equal(file_write(qpath, q.data, q.len), 0);
	{
		const char *const a[] = { "verify", "--quote", qpath, "--allow-sim", NULL };

		cli_run(&r, a);
		assert_int_equal(r.code, 0);
		assert_non_null(strstr(r.out, "affirming (tdx)"));
		assert_non_null(strstr(r.out, "not rooted in Intel hardware"));
		cli_free(&r);
	}
	{
		const char *const a[] = { "verify", "--quote", qpath, NULL };

		cli_run(&r, a);
		assert_int_equal(r.code, 1);
		assert_non_null(strstr(r.out, "contraindicated"));
		cli_free(&r);
	}
	{
		const char *const a[] = { "sim-root", "--platform", "sim-tdx", "--state-dir", f->store, NULL };
		char *pem;
		size_t n;

		cli_run(&r, a);
		assert_int_equal(r.code, 0);
		assert_int_equal(tdx_sim_root_pem(f->s, &pem, &n), 0);
		assert_int_equal(r.out_len, n);
		assert_memory_equal(r.out, pem, n);
		assert_int_equal(file_write(root, pem, n), 0);
		free(pem);
		cli_free(&r);
	}
	{
		const char *const a[] = { "verify", "--quote", qpath, "--root", root, NULL };

		cli_run(&r, a);
		assert_int_equal(r.code, 0);
		cli_free(&r);
	}
	{
		const char *const a[] = { "sim-root", "--platform", "sim-xyz", NULL };

		cli_run(&r, a);
		assert_int_equal(r.code, 2);
		assert_non_null(strstr(r.err, "sim-xyz"));
		cli_free(&r);
	}
	{
		const char *const a[] = { "measure", "--platform", "sim-tdx", "--kernel", KERNEL, "--initrd", INITRD,
					  "--append", "console=ttyS0 quiet", "--vcpus", "2", "--mem", "256M", NULL };
		uint8_t *kernel, *initrd, m[48];
		size_t klen, ilen;
		char hex[97];

		cli_run(&r, a);
		assert_int_equal(r.code, 0);
		assert_int_equal(file_read(KERNEL, 64u << 20, &kernel, &klen), 0);
		assert_int_equal(file_read(INITRD, 64u << 20, &initrd, &ilen), 0);
		assert_int_equal(vmm_sim_tdx_measure(kernel, klen, KERNEL, initrd, ilen, "console=ttyS0 quiet", 2, MEM,
						     NULL, m), 0);
		hex_encode(m, 48, hex);
		assert_int_equal(r.out_len, 97);
		assert_memory_equal(r.out, hex, 96);
		free(kernel);
		free(initrd);
		cli_free(&r);
	}
	bb_free(&q);
}

/* ---- RTMRs ---- */

static void test_rtmr_extend(void **state)
{
	struct fixture *f = *state;
	uint8_t d1[48], d2[48], want[48], got[48], rtmr[4][48], buf[96], zero[48] = { 0 }, rd[64] = { 0 };
	struct bytebuf q = { 0 }, ccel = { 0 };
	char detail[256];

	fill(d1, 48, 1);
	fill(d2, 48, 200);
	/* SHA-384(old || digest), computed here independently */
	memset(buf, 0, 48);
	memcpy(buf + 48, d1, 48);
	assert_true(EVP_Digest(buf, 96, want, NULL, EVP_sha384(), NULL));
	assert_int_equal(tdx_sim_rtmr_extend(f->s, 3, d1, (const uint8_t *)"first", 5, got), 0);
	assert_memory_equal(got, want, 48);
	memcpy(buf, want, 48);
	memcpy(buf + 48, d2, 48);
	assert_true(EVP_Digest(buf, 96, want, NULL, EVP_sha384(), NULL));
	assert_int_equal(tdx_sim_rtmr_extend(f->s, 3, d2, NULL, 0, got), 0);
	assert_memory_equal(got, want, 48);
	assert_int_equal(tdx_sim_rtmr_extend(f->s, 2, d1, (const uint8_t *)"x", 1, NULL), 0);
	assert_int_equal(tdx_sim_rtmr_extend(f->s, 4, d1, NULL, 0, NULL), -EINVAL);
	assert_int_equal(tdx_sim_rtmrs(f->s, rtmr), 0);
	assert_memory_equal(rtmr[3], want, 48);
	assert_memory_equal(rtmr[0], zero, 48);
	/* the CCEL replays to the quote's RTMRs (measured-boot's replay) */
	quote_of(f->s, rd, &q, &ccel);
	assert_true(ccel.len > 0);
	assert_int_equal(mb_ccel_check_rtmrs(ccel.data, ccel.len, (const uint8_t(*)[48])rtmr, detail, sizeof(detail)), 0);
	rtmr[2][0] ^= 1;
	assert_int_equal(mb_ccel_check_rtmrs(ccel.data, ccel.len, (const uint8_t(*)[48])rtmr, detail, sizeof(detail)), 1);
	/* a new launch starts from zero again */
	assert_int_equal(tdx_sim_launch(f->s, f->mrtd, f->cfg), 0);
	assert_int_equal(tdx_sim_rtmrs(f->s, rtmr), 0);
	assert_memory_equal(rtmr[3], zero, 48);
	bb_free(&q);
	bb_free(&ccel);
}

/* ---- the sim channel over a unix socket ---- */

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void read_n(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t got = read(fd, p, n);

		assert_true(got > 0);
		p += got;
		n -= (size_t)got;
	}
}

static uint8_t *read_rsp(int fd, size_t *len, uint16_t *type)
{
	uint8_t hdr[SNP_SIM_HDR_LEN], *m;
	uint32_t plen = 0;

	read_n(fd, hdr, sizeof(hdr));
	assert_int_equal(tdx_sim_hdr_parse(hdr, sizeof(hdr), "response", type, &plen), 0);
	m = malloc(sizeof(hdr) + plen);
	assert_non_null(m);
	memcpy(m, hdr, sizeof(hdr));
	read_n(fd, m + sizeof(hdr), plen);
	*len = sizeof(hdr) + plen;
	return m;
}

static void send_all(int fd, const struct bytebuf *b)
{
	assert_int_equal(write(fd, b->data, b->len), (ssize_t)b->len);
}

static void test_channel(void **state)
{
	struct fixture *f = *state;
	struct tdx_sim_channel *ch;
	char addr[400];
	uint8_t rd[64], d[48], rtmr[48], snpreq[SNP_SIM_REQ_LEN], *m;
	const uint8_t *quote, *ccel;
	size_t mlen, qlen, clen;
	struct bytebuf req = { 0 };
	struct tdx_quote p;
	uint16_t type;
	uint32_t index;
	int fd;

	snprintf(addr, sizeof(addr), "unix:%s/sim.sock", f->tmp);
	assert_int_equal(tdx_sim_channel_start(f->s, addr, 0, &ch), 0);
	fd = connect_unix(addr + 5);
	/* RTMR extend: the new value comes back */
	fill(d, 48, 0x55);
	assert_int_equal(tdx_sim_extend_req_encode(&req, 3, d, (const uint8_t *)"cvmm-test", 9), 0);
	send_all(fd, &req);
	m = read_rsp(fd, &mlen, &type);
	assert_int_equal(type, TDX_SIM_EXTEND_RSP);
	assert_int_equal(tdx_sim_extend_rsp_parse(m, mlen, "rsp", &index, rtmr), 0);
	assert_int_equal(index, 3);
	{
		uint8_t zero[48] = { 0 }, want[48];

		assert_int_equal(tdx_rtmr_fold(zero, d, want), 0);
		assert_memory_equal(rtmr, want, 48);
	}
	free(m);
	/* a quote on the same connection, with the event log */
	fill(rd, 64, 0xa0);
	req.len = 0;
	assert_int_equal(tdx_sim_quote_req_encode(&req, rd), 0);
	send_all(fd, &req);
	m = read_rsp(fd, &mlen, &type);
	assert_int_equal(type, TDX_SIM_QUOTE_RSP);
	assert_int_equal(tdx_sim_quote_rsp_parse(m, mlen, "rsp", &quote, &qlen, &ccel, &clen), 0);
	assert_int_equal(tdx_quote_parse(quote, qlen, "quote", &p), 0);
	assert_memory_equal(p.body + TDX_B_REPORT_DATA, rd, 64);
	assert_memory_equal(p.body + TDX_B_RTMR0 + 144, rtmr, 48);
	assert_true(clen > 0);
	free(m);
	/* an SNP request: this channel is TDX */
	assert_int_equal(snp_sim_req_encode(snpreq, rd, 0, true), 0);
	assert_int_equal(write(fd, snpreq, sizeof(snpreq)), (ssize_t)sizeof(snpreq));
	m = read_rsp(fd, &mlen, &type);
	assert_int_equal(type, TDX_SIM_PLATFORM_RSP);
	assert_int_equal(le32(m + SNP_SIM_HDR_LEN), TDX_SIM_PLATFORM_TDX);
	free(m);
	/* RTMR 0 is not the guest's: STATUS 0x16, the connection goes on */
	req.len = 0;
	assert_int_equal(tdx_sim_extend_req_encode(&req, 3, d, NULL, 0), 0);
	put_le32(req.data + SNP_SIM_HDR_LEN, 0);
	send_all(fd, &req);
	m = read_rsp(fd, &mlen, &type);
	assert_int_equal(tdx_sim_extend_rsp_parse(m, mlen, "rsp", &index, rtmr), -EIO);
	assert_int_equal(le32(m + SNP_SIM_HDR_LEN), TDX_SIM_STATUS_INVALID);
	assert_non_null(strstr(err_msg(), "0x16"));
	free(m);
	/* a short quote request: STATUS 0x16 */
	req.len = 0;
	assert_int_equal(tdx_sim_quote_req_encode(&req, rd), 0);
	put_le32(req.data + 8, 60);
	req.len -= 4;
	send_all(fd, &req);
	m = read_rsp(fd, &mlen, &type);
	assert_int_equal(tdx_sim_quote_rsp_parse(m, mlen, "rsp", &quote, &qlen, &ccel, &clen), -EIO);
	free(m);
	/* a bad header: an error answer, then the connection ends */
	req.len = 0;
	assert_int_equal(tdx_sim_quote_req_encode(&req, rd), 0);
	req.data[0] ^= 0xff;
	send_all(fd, &req);
	m = read_rsp(fd, &mlen, &type);
	assert_int_equal(le32(m + SNP_SIM_HDR_LEN), TDX_SIM_STATUS_INVALID);
	free(m);
	{
		uint8_t b;

		/* EOF, or a reset: the rest of our request was never read */
		assert_true(read(fd, &b, 1) <= 0);
	}
	close(fd);
	/* the server goes on serving */
	fd = connect_unix(addr + 5);
	req.len = 0;
	assert_int_equal(tdx_sim_quote_req_encode(&req, rd), 0);
	send_all(fd, &req);
	m = read_rsp(fd, &mlen, &type);
	assert_int_equal(tdx_sim_quote_rsp_parse(m, mlen, "rsp", &quote, &qlen, &ccel, &clen), 0);
	free(m);
	tdx_sim_channel_stop(ch);
	close(fd);
	bb_free(&req);
	{
		struct stat st;

		assert_int_equal(stat(addr + 5, &st), -1);
	}
}

/* The channel thread of cvmm run carries the api role's seccomp filter
 * (vmm/confine): serving quotes (OpenSSL signing) and RTMR extensions must
 * stay within it. The sanitizer runtimes make system calls of their own. */
static void channel_hook(void)
{
	confine_thread(CONFINE_API);
}

static void test_channel_confined(void **state)
{
	struct fixture *f = *state;
	char addr[400], c;
	uint8_t rd[64] = { 7 }, d[48] = { 9 }, rtmr[48], *m;
	const uint8_t *quote, *ccel;
	size_t mlen, qlen, clen;
	struct bytebuf req = { 0 };
	uint32_t index;
	uint16_t type;
	int pfd[2], st, fd;
	pid_t pid;

#if defined(__SANITIZE_ADDRESS__)
	skip();
#endif
	snprintf(addr, sizeof(addr), "unix:%s/confined.sock", f->tmp);
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tdx_sim_channel *ch;

		confine_seccomp_set_mode(CONFINE_SECCOMP_KILL);
		tdx_sim_channel_thread_hook = channel_hook;
		if (tdx_sim_channel_start(f->s, addr, 0, &ch))
			_exit(100);
		if (write(pfd[1], "r", 1) != 1)
			_exit(101);
		for (;;)
			pause();
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	fd = connect_unix(addr + 5);
	assert_int_equal(tdx_sim_extend_req_encode(&req, 2, d, (const uint8_t *)"confined", 8), 0);
	send_all(fd, &req);
	m = read_rsp(fd, &mlen, &type);
	assert_int_equal(tdx_sim_extend_rsp_parse(m, mlen, "rsp", &index, rtmr), 0);
	free(m);
	for (int i = 0; i < 2; i++) {
		req.len = 0;
		assert_int_equal(tdx_sim_quote_req_encode(&req, rd), 0);
		send_all(fd, &req);
		m = read_rsp(fd, &mlen, &type);
		assert_int_equal(tdx_sim_quote_rsp_parse(m, mlen, "rsp", &quote, &qlen, &ccel, &clen), 0);
		free(m);
	}
	close(fd);
	bb_free(&req);
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0); /* still alive */
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

/* ---- wire parsers on hostile input ---- */

static void test_wire_parsers(void **state)
{
	uint8_t d[48] = { 0 }, ev[8] = "abcdefgh", got[48];
	struct bytebuf b = { 0 };
	const uint8_t *e;
	size_t el;
	uint32_t idx;

	(void)state;
	assert_int_equal(tdx_sim_extend_req_encode(&b, 1, d, NULL, 0), -EINVAL);
	assert_int_equal(tdx_sim_extend_req_encode(&b, 2, d, ev, sizeof(ev)), 0);
	assert_int_equal(tdx_sim_extend_req_parse(b.data + SNP_SIM_HDR_LEN, b.len - SNP_SIM_HDR_LEN, "req", &idx, got, &e,
						  &el), 0);
	assert_int_equal(idx, 2);
	assert_int_equal(el, sizeof(ev));
	assert_memory_equal(e, ev, sizeof(ev));
	/* truncated event, trailing bytes, oversized event */
	assert_true(tdx_sim_extend_req_parse(b.data + SNP_SIM_HDR_LEN, b.len - SNP_SIM_HDR_LEN - 1, "req", &idx, got, &e,
					     &el) < 0);
	put_le32(b.data + SNP_SIM_HDR_LEN + 52, 4);
	assert_true(tdx_sim_extend_req_parse(b.data + SNP_SIM_HDR_LEN, b.len - SNP_SIM_HDR_LEN, "req", &idx, got, &e,
					     &el) < 0);
	assert_non_null(strstr(err_msg(), "after the event"));
	put_le32(b.data + SNP_SIM_HDR_LEN + 52, TDX_SIM_EVENT_MAX + 1);
	assert_true(tdx_sim_extend_req_parse(b.data + SNP_SIM_HDR_LEN, b.len - SNP_SIM_HDR_LEN, "req", &idx, got, &e,
					     &el) < 0);
	/* a response whose sizes overrun the message */
	b.len = 0;
	assert_int_equal(tdx_sim_quote_rsp_encode(&b, 0, ev, sizeof(ev), NULL, 0), 0);
	put_le32(b.data + SNP_SIM_HDR_LEN + 4, 9);
	{
		const uint8_t *q, *c;
		size_t ql, cl;

		assert_true(tdx_sim_quote_rsp_parse(b.data, b.len, "rsp", &q, &ql, &c, &cl) < 0);
		assert_null(q);
	}
	bb_free(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_made_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_damaged, setup, teardown),
		cmocka_unit_test(test_mrtd_run_equals_measure),
		cmocka_unit_test_setup_teardown(test_quote_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quote_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtmr_extend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel_confined, setup, teardown),
		cmocka_unit_test(test_wire_parsers),
	};

	(void)argc;
	if (cli_locate(argv[0]))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
