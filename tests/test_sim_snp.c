/* Unit tests: the sim-snp software secure processor (sev/sim_*.c): the key
 * store (made once, reused, 0600/0700, damaged files are errors naming the
 * file, two processes creating it at once agree), its reports read back by
 * the verifier's own parser field by field,
 * verification with the certificate table (affirming and marked simulated
 * with allow_sim or a pinned root, an authenticity failure without, a
 * flipped byte breaks the signature), the certificate table parser, and the
 * sim channel over a unix socket (REPORT_REQ, EXT_REPORT_REQ, malformed
 * requests answered with STATUS 0x16 while the server keeps serving). */
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

#include "attestation/attestation.h"
#include "attestation/snp_report.h"
#include "common/common.h"
#include "sev/sev.h"
#include "sev/sim_wire.h"
#include "tests/att_checks.h"

static const char *const files[] = { "ark.pem", "ark.key", "ask.pem", "ask.key", "vcek.pem", "vcek.key" };

struct fixture {
	char tmp[256], store[300];
	struct snp_sim *sp;
	struct snp_sim_launch l;
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
	snprintf(f->tmp, sizeof(f->tmp), "%s/cvmm-sim-snp-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(f->tmp));
	/* two levels that do not exist yet: created with parents */
	snprintf(f->store, sizeof(f->store), "%s/state/sim-snp", f->tmp);
	if (snp_sim_open(f->store, &f->sp))
		fail_msg("snp_sim_open: %s", err_msg());
	fill(f->l.measurement, 48, 0x10);
	f->l.policy = 0x30000;
	fill(f->l.host_data, 32, 0x20);
	fill(f->l.family_id, 16, 0x30);
	fill(f->l.image_id, 16, 0x40);
	fill(f->l.id_key_digest, 48, 0x50);
	fill(f->l.author_key_digest, 48, 0x60);
	f->l.guest_svn = 7;
	f->l.author_key_en = true;
	assert_int_equal(snp_sim_launch(f->sp, &f->l), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];

	snp_sim_close(f->sp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void table_of(struct snp_sim *sp, uint8_t **t, size_t *n)
{
	assert_int_equal(snp_sim_cert_table(sp, t, n), 0);
}

static void test_store_made_once(void **state)
{
	struct fixture *f = *state;
	struct snp_sim *again;
	uint8_t *t1, *t2;
	size_t n1, n2;
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
	/* a second open loads the same keys: same ARK, ASK, VCEK bytes */
	assert_int_equal(snp_sim_open(f->store, &again), 0);
	table_of(f->sp, &t1, &n1);
	table_of(again, &t2, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(t1, t2, n1);
	assert_int_equal(snp_sim_ark_pem(f->sp, &pem1, &p1), 0);
	assert_int_equal(snp_sim_ark_pem(again, &pem2, &p2), 0);
	assert_int_equal(p1, p2);
	assert_memory_equal(pem1, pem2, p1);
	assert_non_null(strstr(pem1, "-----BEGIN CERTIFICATE-----"));
	/* before any launch there is nothing to report */
	{
		uint8_t rd[64] = { 0 }, rep[0x4A0];

		assert_int_equal(snp_sim_report(again, rd, 0, rep), -ENODATA);
		assert_non_null(strstr(err_msg(), "launch"));
	}
	free(pem1);
	free(pem2);
	free(t1);
	free(t2);
	snp_sim_close(again);
}

/* Copy the store into dir, damage one file, expect an error naming it. */
static void expect_damaged(struct fixture *f, const char *name, bool remove_it)
{
	char dir[400], cmd[1000], path[500];
	struct snp_sim *sp = NULL;

	snprintf(dir, sizeof(dir), "%s/damaged-%s", f->tmp, name);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", f->store, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (remove_it)
		assert_int_equal(unlink(path), 0);
	else
		assert_int_equal(truncate(path, 100), 0);
	assert_true(snp_sim_open(dir, &sp) < 0);
	assert_null(sp);
	if (!strstr(err_msg(), path))
		fail_msg("error does not name %s: %s", path, err_msg());
	/* nothing was regenerated: the damaged file is still damaged / missing */
	assert_int_equal(access(path, F_OK) == 0, !remove_it);
}

static void test_store_damaged(void **state)
{
	struct fixture *f = *state;

	expect_damaged(f, "vcek.key", false);
	expect_damaged(f, "ark.pem", false);
	expect_damaged(f, "ask.pem", true);
}

/* Two processes making the same new store at once: one wins, both end up
 * with the same keys. */
static void test_store_race(void **state)
{
	struct fixture *f = *state;
	char dir[400], path[500];
	uint8_t *t1, *t2;
	size_t n1, n2;
	struct snp_sim *sp;
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s/race/sim-snp", f->tmp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ret = snp_sim_open(dir, &sp);

		if (!ret)
			snp_sim_close(sp);
		_exit(ret ? 1 : 0);
	}
	if (snp_sim_open(dir, &sp))
		fail_msg("snp_sim_open: %s", err_msg());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	table_of(sp, &t1, &n1);
	snp_sim_close(sp);
	assert_int_equal(snp_sim_open(dir, &sp), 0); /* what is on disk now */
	table_of(sp, &t2, &n2);
	snp_sim_close(sp);
	assert_int_equal(n1, n2);
	assert_memory_equal(t1, t2, n1);
	/* no temporary directories left behind */
	snprintf(path, sizeof(path), "ls -A '%s/race' | grep -qv '^sim-snp$'", f->tmp);
	assert_int_not_equal(system(path), 0);
	free(t1);
	free(t2);
}

static void test_report_fields(void **state)
{
	struct fixture *f = *state;
	uint8_t rd[64], rep[0x4A0], rep2[0x4A0], ff[32];
	struct snp_report r;

	fill(rd, 64, 0xA0);
	memset(ff, 0xFF, 32);
	assert_int_equal(snp_sim_report(f->sp, rd, 2, rep), 0);
	assert_int_equal(snp_report_parse(rep, sizeof(rep), "sim report", &r), 0);
	assert_int_equal(r.version, 3);
	assert_int_equal(r.guest_svn, 7);
	assert_int_equal(r.policy, 0x30000);
	assert_memory_equal(r.family_id, f->l.family_id, 16);
	assert_memory_equal(r.image_id, f->l.image_id, 16);
	assert_int_equal(r.vmpl, 2);
	assert_int_equal(r.signature_algo, 1);
	assert_int_equal(r.platform_info, 0);
	assert_int_equal(r.flags, 1); /* AUTHOR_KEY_EN, VCEK, chip key not masked */
	assert_int_equal(snp_report_signer(&r), SNP_SIGNER_VCEK);
	assert_memory_equal(r.report_data, rd, 64);
	assert_memory_equal(r.measurement, f->l.measurement, 48);
	assert_memory_equal(r.host_data, f->l.host_data, 32);
	assert_memory_equal(r.id_key_digest, f->l.id_key_digest, 48);
	assert_memory_equal(r.author_key_digest, f->l.author_key_digest, 48);
	assert_memory_equal(r.report_id_ma, ff, 32);
	assert_memory_not_equal(r.report_id, ff, 32);
	assert_int_equal(r.cpuid_fam_id, 0x19);
	assert_int_equal(r.cpuid_mod_id, 0x01);
	assert_int_equal(r.cpuid_step, 0x01);
	assert_int_equal(snp_report_product(&r), SNP_PRODUCT_MILAN);
	/* one TCB everywhere: Milan layout BL 3, TEE 0, SNP 8, microcode 115 */
	assert_int_equal(r.reported_tcb, 0x7308000000000003ull);
	assert_int_equal(r.current_tcb, r.reported_tcb);
	assert_int_equal(r.committed_tcb, r.reported_tcb);
	assert_int_equal(r.launch_tcb, r.reported_tcb);
	assert_int_equal(r.current_major, 1);
	assert_int_equal(r.current_minor, 55);
	assert_int_equal(r.current_build, 21);
	assert_int_equal(r.committed_major, 1);
	assert_int_equal(r.committed_minor, 55);
	assert_int_equal(r.committed_build, 21);

	/* REPORT_ID: the same within a launch, new with the next launch */
	assert_int_equal(snp_sim_report(f->sp, rd, 0, rep2), 0);
	assert_memory_equal(rep + 0x140, rep2 + 0x140, 32);
	assert_int_equal(snp_sim_launch(f->sp, &f->l), 0);
	assert_int_equal(snp_sim_report(f->sp, rd, 0, rep2), 0);
	assert_memory_not_equal(rep + 0x140, rep2 + 0x140, 32);
	assert_int_equal(snp_sim_report(f->sp, rd, 4, rep2), -EINVAL);
}

static int verify_with(const uint8_t *rep, const uint8_t *table, size_t tlen, bool allow_sim, const char *root,
		       size_t root_len, struct att_result *r)
{
	struct att_options o = { .cert_table = table, .cert_table_len = tlen, .allow_sim = allow_sim,
				 .root_pem = root, .root_pem_len = root_len };

	assert_int_equal(att_result_init(r, "snp"), 0);
	return att_snp_verify(rep, 0x4A0, &o, r);
}

static void test_verify(void **state)
{
	struct fixture *f = *state;
	uint8_t rd[64] = { 1, 2, 3 }, rep[0x4A0], *table;
	size_t tlen, plen;
	char *pem;
	struct att_result r;

	assert_int_equal(snp_sim_report(f->sp, rd, 0, rep), 0);
	table_of(f->sp, &table, &tlen);

	/* allow_sim: affirming, and marked simulated */
	assert_int_equal(verify_with(rep, table, tlen, true, NULL, 0, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_true(r.simulated);
	assert_true(json_is_true(json_object_get(r.claims, "simulated")));
	assert_true(result_check_ok(&r, "cert_table"));
	assert_true(result_check_ok(&r, "product"));
	assert_true(result_check_ok(&r, "ark"));
	assert_non_null(strstr(result_detail(&r, "ark"), "simulated platform"));
	assert_true(result_check_ok(&r, "ask"));
	assert_true(result_check_ok(&r, "vcek"));
	assert_true(result_check_ok(&r, "vek_chip_id"));
	assert_true(result_check_ok(&r, "vek_tcb"));
	assert_true(result_check_ok(&r, "report_signature"));
	assert_string_equal(json_string_value(json_object_get(r.claims, "product")), "milan");
	att_result_free(&r);

	/* without allow_sim: an authenticity failure (exit 1: contraindicated) */
	assert_int_equal(verify_with(rep, table, tlen, false, NULL, 0, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_true(r.auth_failed);
	assert_false(r.simulated);
	assert_false(result_check_ok(&r, "ark"));
	att_result_free(&r);

	/* a pinned root (the store's ARK) needs no allow_sim */
	assert_int_equal(snp_sim_ark_pem(f->sp, &pem, &plen), 0);
	assert_int_equal(verify_with(rep, table, tlen, false, pem, plen, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_true(r.simulated);
	assert_non_null(strstr(result_detail(&r, "ark"), "pinned root"));
	att_result_free(&r);

	/* a flipped byte in the signed part: the signature fails */
	rep[0x50] ^= 1;
	assert_int_equal(verify_with(rep, table, tlen, true, NULL, 0, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_false(result_check_ok(&r, "report_signature"));
	att_result_free(&r);
	free(pem);
	free(table);
}

static void put_entry(uint8_t *p, const uint8_t guid[16], uint32_t off, uint32_t len)
{
	memcpy(p, guid, 16);
	put_le32(p + 16, off);
	put_le32(p + 20, len);
}

static void test_cert_table_parse(void **state)
{
	struct fixture *f = *state;
	struct snp_cert_table t;
	uint8_t *table, buf[512] = { 0 };
	size_t tlen;
	static const uint8_t vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
					  0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
	static const uint8_t other[16] = { 0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d,
					   0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67, 0xea };

	table_of(f->sp, &table, &tlen);
	assert_int_equal(snp_cert_table_parse(table, tlen, "table", &t), 0);
	assert_int_equal(t.entries, 3);
	assert_non_null(t.vcek.p);
	assert_non_null(t.ask.p);
	assert_non_null(t.ark.p);
	assert_null(t.vlek.p);
	assert_int_equal(t.unknown, 0);
	/* the table without its certificates: entries out of range */
	assert_int_equal(snp_cert_table_parse(table, 4 * 24, "table", &t), -EINVAL);
	assert_non_null(strstr(err_msg(), "outside"));
	/* no terminator */
	assert_int_equal(snp_cert_table_parse(table, 3 * 24, "table", &t), -EINVAL);
	assert_non_null(strstr(err_msg(), "terminat"));
	free(table);

	/* duplicate GUID */
	put_entry(buf, vcek, 72, 10);
	put_entry(buf + 24, vcek, 82, 10);
	assert_int_equal(snp_cert_table_parse(buf, 200, "table", &t), -EINVAL);
	assert_non_null(strstr(err_msg(), "twice"));
	/* overlap */
	put_entry(buf + 24, other, 80, 10);
	assert_int_equal(snp_cert_table_parse(buf, 200, "table", &t), -EINVAL);
	assert_non_null(strstr(err_msg(), "overlaps"));
	/* an entry pointing into the entry array */
	put_entry(buf + 24, other, 40, 10);
	assert_int_equal(snp_cert_table_parse(buf, 200, "table", &t), -EINVAL);
	/* unknown GUIDs are recorded, not fatal */
	put_entry(buf + 24, other, 82, 10);
	assert_int_equal(snp_cert_table_parse(buf, 200, "table", &t), 0);
	assert_int_equal(t.unknown, 1);
	assert_string_equal(t.unknown_guids, "92f81bc3-5811-4d3d-97ff-d19f88dc67ea");
	assert_int_equal(t.vcek.len, 10);
	assert_ptr_equal(t.vcek.p, buf + 72);
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

/* Read one whole response message (malloc'ed). */
static uint8_t *read_rsp(int fd, size_t *len)
{
	uint8_t hdr[SNP_SIM_HDR_LEN], *m;
	uint32_t plen = 0;
	uint16_t type;

	read_n(fd, hdr, sizeof(hdr));
	assert_int_equal(snp_sim_hdr_parse(hdr, sizeof(hdr), "response", &type, &plen), 0);
	m = malloc(sizeof(hdr) + plen);
	assert_non_null(m);
	memcpy(m, hdr, sizeof(hdr));
	read_n(fd, m + sizeof(hdr), plen);
	*len = sizeof(hdr) + plen;
	return m;
}

static void test_channel(void **state)
{
	struct fixture *f = *state;
	struct snp_sim_channel *ch;
	char addr[400];
	uint8_t req[SNP_SIM_REQ_LEN], rd[64], *m, *table;
	const uint8_t *rep, *certs;
	size_t len, rlen, clen, tlen;
	struct snp_report r;
	int fd;

	fill(rd, 64, 0x77);
	snprintf(addr, sizeof(addr), "unix:%s/sim.sock", f->tmp);
	if (snp_sim_channel_start(f->sp, addr, 3, &ch))
		fail_msg("snp_sim_channel_start: %s", err_msg());
	fd = connect_unix(addr + 5);

	/* REPORT_REQ at VMPL 1 */
	assert_int_equal(snp_sim_req_encode(req, rd, 1, false), 0);
	assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
	m = read_rsp(fd, &len);
	assert_int_equal(snp_sim_rsp_parse(m, len, "response", &rep, &rlen, &certs, &clen), 0);
	assert_int_equal(rlen, 0x4A0);
	assert_null(certs);
	assert_int_equal(snp_report_parse(rep, rlen, "report", &r), 0);
	assert_memory_equal(r.report_data, rd, 64);
	assert_int_equal(r.vmpl, 1);
	free(m);

	/* a malformed request (reserved byte set): STATUS 0x16, REPORT_SIZE 0 */
	req[SNP_SIM_HDR_LEN + 80] = 1;
	assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
	m = read_rsp(fd, &len);
	assert_int_equal(le32(m + SNP_SIM_HDR_LEN), 0x16);
	assert_int_equal(le32(m + SNP_SIM_HDR_LEN + 4), 0);
	assert_int_equal(snp_sim_rsp_parse(m, len, "response", &rep, &rlen, &certs, &clen), -EIO);
	assert_non_null(strstr(err_msg(), "0x16"));
	free(m);

	/* ... and the same connection still serves: EXT_REPORT_REQ at VMPL 3 */
	assert_int_equal(snp_sim_req_encode(req, rd, 3, true), 0);
	assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
	m = read_rsp(fd, &len);
	assert_int_equal(snp_sim_rsp_parse(m, len, "response", &rep, &rlen, &certs, &clen), 0);
	assert_int_equal(snp_report_parse(rep, rlen, "report", &r), 0);
	assert_int_equal(r.vmpl, 3);
	table_of(f->sp, &table, &tlen);
	assert_int_equal(clen, tlen);
	assert_memory_equal(certs, table, tlen);
	{
		struct att_result res;

		assert_int_equal(verify_with(rep, certs, clen, true, NULL, 0, &res), 0);
		assert_int_equal(att_result_status(&res), ATT_AFFIRMING);
		att_result_free(&res);
	}
	free(table);
	free(m);

	/* VMPL 4: invalid parameters */
	assert_int_equal(snp_sim_req_encode(req, rd, 0, false), 0);
	put_le32(req + SNP_SIM_HDR_LEN + 64, 4);
	assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
	m = read_rsp(fd, &len);
	assert_int_equal(le32(m + SNP_SIM_HDR_LEN), 0x16);
	free(m);

	/* a bad header: an error answer, the connection ends, the server goes on */
	memcpy(req, "XXXX", 4);
	assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
	m = read_rsp(fd, &len);
	assert_int_equal(le32(m + SNP_SIM_HDR_LEN), 0x16);
	free(m);
	{
		uint8_t b;

		assert_true(read(fd, &b, 1) <= 0); /* closed by the server (EOF or reset) */
	}
	close(fd);
	fd = connect_unix(addr + 5);
	assert_int_equal(snp_sim_req_encode(req, rd, 0, false), 0);
	assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
	m = read_rsp(fd, &len);
	assert_int_equal(snp_sim_rsp_parse(m, len, "response", &rep, &rlen, &certs, &clen), 0);
	free(m);
	/* stop while a client is still connected: prompt, and the socket is gone */
	snp_sim_channel_stop(ch);
	close(fd);
	assert_int_not_equal(access(addr + 5, F_OK), 0);
}

/* The SNP CPUID page: count, then 48-byte entries after a 16-byte header. */
static void test_cpuid_page(void **state)
{
	struct snp_cpuid_fn fn[SNP_CPUID_MAX + 1] = {
		{ .eax_in = 0x7, .ecx_in = 1, .xcr0_in = 3, .xss_in = 0x100, .eax = 0xa, .ebx = 0xb, .ecx = 0xc,
		  .edx = 0xd },
		{ .eax_in = 0x80000008, .eax = 0x3030 },
	};
	uint8_t page[SEV_PAGE_SIZE];
	(void)state;

	memset(page, 0xee, sizeof(page));
	assert_int_equal(snp_cpuid_page_encode(page, fn, 2), 0);
	assert_int_equal(le32(page), 2);
	assert_int_equal(le32(page + 4) | le64(page + 8), 0);
	assert_int_equal(le32(page + 16), 0x7);
	assert_int_equal(le32(page + 20), 1);
	assert_int_equal(le64(page + 24), 3);
	assert_int_equal(le64(page + 32), 0x100);
	assert_int_equal(le32(page + 40), 0xa);
	assert_int_equal(le32(page + 52), 0xd);
	assert_int_equal(le64(page + 56), 0); /* reserved */
	assert_int_equal(le32(page + 64), 0x80000008);
	assert_int_equal(le32(page + 64 + 24), 0x3030);
	assert_int_equal(page[16 + 2 * 48], 0); /* the rest is zero */
	assert_int_equal(page[SEV_PAGE_SIZE - 1], 0);
	assert_int_equal(snp_cpuid_page_encode(page, fn, SNP_CPUID_MAX), 0);
	assert_int_equal(snp_cpuid_page_encode(page, fn, SNP_CPUID_MAX + 1), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_made_once), cmocka_unit_test(test_store_damaged),
		cmocka_unit_test(test_store_race),
		cmocka_unit_test(test_report_fields),	cmocka_unit_test(test_verify),
		cmocka_unit_test(test_cert_table_parse), cmocka_unit_test(test_channel),
		cmocka_unit_test(test_cpuid_page),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
