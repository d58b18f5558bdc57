/* test_tdx_exit.c - KVM_EXIT_TDX (tdx/tdx_exit.c) and the QGS client
 * (tdx/qgs.c) against the recording ioctl seam and a fake quote generation
 * service on a unix socket.
 *
 * Expectations by hand from:
 *  - api.rst "KVM_EXIT_TDX": nr, get_quote {ret, gpa, size},
 *    setup_event_notify {ret, vector}, get_tdvmcall_info {ret, leaf, r11..r14}.
 *  - Intel TDX GHCI 1.5: GetQuote 0x10002, SetupEventNotifyInterrupt
 *    0x10004, GetTdVmCallInfo 0x10000; status SUCCESS 0, RETRY 1,
 *    INVALID_OPERAND 1 << 63, ALIGN_ERROR (1 << 63) | 2; the GetQuote buffer
 *    { u64 version = 1, u64 status, u32 in_len, u32 out_len, data };
 *    buffer status SUCCESS 0, IN_FLIGHT all ones, ERROR 1 << 63,
 *    QGS_UNAVAILABLE (1 << 63) | 1; notify vectors 32..255.
 *  - Intel DCAP qgs_msg_lib: 4-byte big-endian length, then header
 *    { u16 1, u16 1, u32 type (0 request, 1 response), u32 size, u32 error }
 *    and { u32 report_size, u32 id_list_size, report } /
 *    { u32 selected_id_size, u32 quote_size, id, quote }, little-endian. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/common.h"
#include "tests/fake_qgs.h"
#include "tdx/backend_tdx.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"

#define RAM 0x100000ull
#define BUF_GPA 0x8000ull
#define BUF_SIZE 0x2000ull
#define REPORT_LEN 1024

/* ---------------- a TD's memory through the recorder ---------------- */
struct env {
	struct cc_rec *rec;
	struct cc_io *io;
	int kvm, vm;
	struct cc_slot slot;
	struct cc_mem mem;
	struct tdx_run_ctx t;
	struct qgs_addr addr;
	char path[64];
	uint8_t *buf;   /* the guest's GetQuote buffer */
};

static void up(struct env *e, bool with_qgs)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "/tmp/test_tdx_exit.%d.jsonl", (int)getpid());
	assert_int_equal(cc_rec_create(e->path, &e->rec), 0);
	e->io = cc_rec_io(e->rec);
	e->kvm = e->io->open(e->io, "/dev/kvm");
	e->vm = e->io->ioctl(e->io, e->kvm, KVM_CREATE_VM, (void *)(uintptr_t)KVM_X86_TDX_VM);
	assert_int_equal(cc_slot_add(e->io, e->vm, 0, 0, RAM, "test", &e->slot), 0);
	cc_mem_init(&e->mem, e->io, e->vm, &e->slot, 1, true);
	snprintf(e->addr.path, sizeof(e->addr.path), "/tmp/test_tdx_exit.%d.sock", (int)getpid());
	tdx_run_ctx_init(&e->t, &e->mem, with_qgs ? &e->addr : NULL);
	e->buf = e->slot.host + BUF_GPA;
	/* the guest's request: version 1, status 0, in_len 1024, a TDREPORT */
	uint64_t version = 1;
	uint32_t in_len = REPORT_LEN;
	memcpy(e->buf, &version, 8);
	memset(e->buf + 8, 0, 8);
	memcpy(e->buf + 16, &in_len, 4);
	memset(e->buf + 20, 0, 4);
	for (int i = 0; i < REPORT_LEN; i++)
		e->buf[24 + i] = (uint8_t)i;
}

/* Close; returns the recorded lines after the 4 setup ones as one string. */
static char *down(struct env *e)
{
	char *all = NULL, *line = NULL;
	size_t cap = 0, len = 0, i = 0;
	FILE *fp;

	tdx_run_ctx_drain(&e->t);
	cc_slot_release(e->io, &e->slot);
	e->io->close(e->io, e->vm);
	e->io->close(e->io, e->kvm);
	assert_int_equal(cc_rec_close(e->rec), 0);
	cc_mem_destroy(&e->mem);
	assert_non_null(fp = fopen(e->path, "r"));
	all = calloc(1, 1);
	while (getline(&line, &cap, fp) > 0) {
		if (i++ < 4)
			continue;
		all = realloc(all, len + strlen(line) + 1);
		strcpy(all + len, line);
		len += strlen(line);
	}
	free(line);
	fclose(fp);
	unlink(e->path);
	return all;
}

static uint64_t status(const struct env *e) { uint64_t v; memcpy(&v, e->buf + 8, 8); return v; }
static uint32_t out_len(const struct env *e) { uint32_t v; memcpy(&v, e->buf + 20, 4); return v; }

static void exit_quote(struct kvm_run *run, uint64_t gpa, uint64_t size)
{
	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_TDX;
	run->tdx.nr = TDVMCALL_GET_QUOTE;
	run->tdx.get_quote.ret = TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED; /* as KVM presets it */
	run->tdx.get_quote.gpa = gpa;
	run->tdx.get_quote.size = size;
}

/* ---------------- tests ---------------- */
static void test_frame_request(void **state)
{
	uint8_t report[4] = { 0xaa, 0xbb, 0xcc, 0xdd }, *b;
	static const uint8_t want[] = {
		0, 0, 0, 28,             /* big-endian length of what follows */
		1, 0, 1, 0,              /* version 1.1 */
		0, 0, 0, 0,              /* GET_QUOTE_REQ */
		28, 0, 0, 0,             /* size, header included */
		0, 0, 0, 0,              /* error_code */
		4, 0, 0, 0,              /* report_size */
		0, 0, 0, 0,              /* id_list_size */
		0xaa, 0xbb, 0xcc, 0xdd,
	};
	size_t n;

	(void)state;
	assert_int_equal(qgs_frame_request(report, 4, &b, &n), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	free(b);
	assert_int_equal(qgs_frame_request(report, 0, &b, &n), -EINVAL);
}

static void test_parse_response(void **state)
{
	uint8_t b[128];
	const uint8_t *q;
	uint32_t ql;
	size_t n;

	(void)state;
	n = response(b, 10, 1, 0, 0);
	assert_int_equal(qgs_parse_response(b + 4, n - 4, &q, &ql), 0);
	assert_int_equal(ql, 10);
	assert_ptr_equal(q, b + 28);
	assert_int_equal(qgs_parse_response(b + 4, n - 5, &q, &ql), -EPROTO); /* size != framed */
	n = response(b, 10, 0, 0, 0);
	assert_int_equal(qgs_parse_response(b + 4, n - 4, &q, &ql), -EPROTO); /* a request */
	assert_non_null(strstr(err_msg(), "message type 0"));
	n = response(b, 10, 1, 0x12, 0);
	assert_int_equal(qgs_parse_response(b + 4, n - 4, &q, &ql), -EPROTO);
	assert_non_null(strstr(err_msg(), "error code 0x12"));
	n = response(b, 10, 1, 0, 0);
	b[4] = 2; /* major version 2 */
	assert_int_equal(qgs_parse_response(b + 4, n - 4, &q, &ql), -EPROTO);
	n = response(b, 10, 1, 0, 0);
	b[4 + 20] = 11; /* quote_size past the body */
	assert_int_equal(qgs_parse_response(b + 4, n - 4, &q, &ql), -EPROTO);
	assert_int_equal(qgs_parse_response(b + 4, 10, &q, &ql), -EPROTO);
}

static void test_parse_addr(void **state)
{
	struct qgs_addr a;

	(void)state;
	assert_int_equal(qgs_parse_addr("unix:/run/qgs.sock", &a), 0);
	assert_false(a.vsock);
	assert_string_equal(a.path, "/run/qgs.sock");
	assert_int_equal(qgs_parse_addr("vsock:2:4050", &a), 0);
	assert_true(a.vsock);
	assert_int_equal(a.cid, 2);
	assert_int_equal(a.port, 4050);
	assert_int_equal(qgs_parse_addr("vsock:2", &a), -EINVAL);
	assert_int_equal(qgs_parse_addr("vsock:2:-1", &a), -EINVAL);
	assert_int_equal(qgs_parse_addr("vsock:2:4050x", &a), -EINVAL);
	assert_int_equal(qgs_parse_addr("vsock:4294967296:1", &a), -EINVAL);
	assert_int_equal(qgs_parse_addr("unix:", &a), -EINVAL);
	assert_int_equal(qgs_parse_addr("tcp:1.2.3.4:5", &a), -EINVAL);
}

/* The whole GetQuote: IN_FLIGHT at once, then the quote, out_len, SUCCESS
 * and the notify interrupt on the vCPU that registered it. */
static void test_get_quote(void **state)
{
	static uint8_t reply[28 + 600];
	struct qgs_fake q;
	struct kvm_run run;
	struct env e;
	char *lines;

	(void)state;
	up(&e, true);
	qgs_start(&q, reply, response(reply, 600, 1, 0, 0));
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_TDX;
	run.tdx.nr = TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT;
	run.tdx.setup_event_notify.vector = 0xf3;
	assert_int_equal(tdx_exit(&e.t, 1, &run), 0);
	assert_int_equal(run.tdx.setup_event_notify.ret, TDVMCALL_STATUS_SUCCESS);
	exit_quote(&run, BUF_GPA, BUF_SIZE);
	assert_int_equal(tdx_exit(&e.t, 0, &run), 0);
	assert_int_equal(run.tdx.get_quote.ret, TDVMCALL_STATUS_SUCCESS);
	qgs_stop(&q);
	pthread_mutex_lock(&e.t.lock);
	while (e.t.inflight)
		pthread_cond_wait(&e.t.idle, &e.t.lock);
	pthread_mutex_unlock(&e.t.lock);
	assert_int_equal(status(&e), TDX_GET_QUOTE_SUCCESS);
	assert_int_equal(out_len(&e), 600);
	for (int i = 0; i < 600; i++)
		assert_int_equal(e.buf[24 + i], 'Q');
	/* what the QGS got: the framed request around the guest's TDREPORT */
	assert_int_equal(q.rx_len, 4 + 24 + REPORT_LEN);
	assert_memory_equal(q.rx, "\x00\x00\x04\x18\x01\x00\x01\x00\x00\x00\x00\x00\x18\x04\x00\x00"
				  "\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00", 28);
	for (int i = 0; i < REPORT_LEN; i++) /* the report as it was (the quote overwrote it since) */
		assert_int_equal(q.rx[28 + i], (uint8_t)i);
	assert_int_equal(e.t.quotes, 1);
	lines = down(&e);
	/* one MSI: fixed, edge, to APIC 1 (address 0xfee01000), vector 0xf3 */
	assert_string_equal(lines, "{\"ioctl\":\"KVM_SIGNAL_MSI\",\"fd\":101,\"address_lo\":\"0xfee01000\","
				   "\"address_hi\":\"0x0\",\"data\":\"0xf3\",\"flags\":0}\n");
	free(lines);
}

/* The guest's mistakes: TDVMCALL status codes, nothing touched, VMM alive. */
static void test_get_quote_hostile(void **state)
{
	static const struct { uint64_t gpa, size; uint64_t ret; } c[] = {
		{ BUF_GPA + 8, BUF_SIZE, TDVMCALL_STATUS_ALIGN_ERROR },           /* unaligned */
		{ RAM, 0x1000, TDVMCALL_STATUS_INVALID_OPERAND },                 /* outside RAM */
		{ RAM - 0x1000, 0x2000, TDVMCALL_STATUS_INVALID_OPERAND },        /* crosses the end of RAM */
		{ 0xfffffffffffff000ull, 0x2000, TDVMCALL_STATUS_INVALID_OPERAND }, /* wraps */
		{ BUF_GPA, 16, TDVMCALL_STATUS_INVALID_OPERAND },                 /* smaller than the header */
		{ BUF_GPA, 1ull << 40, TDVMCALL_STATUS_INVALID_OPERAND },         /* huge */
		{ BUF_GPA, 24 + 1000, TDVMCALL_STATUS_INVALID_OPERAND },          /* in_len 1024 past the buffer */
	};
	struct kvm_run run;
	struct env e;
	char *lines;

	(void)state;
	up(&e, true);
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		exit_quote(&run, c[i].gpa, c[i].size);
		assert_int_equal(tdx_exit(&e.t, 0, &run), 0);
		if (run.tdx.get_quote.ret != c[i].ret)
			fail_msg("case %zu: ret %#llx", i, (unsigned long long)run.tdx.get_quote.ret);
		assert_int_equal(status(&e), 0);
	}
	e.buf[0] = 2; /* structure version 2 */
	exit_quote(&run, BUF_GPA, BUF_SIZE);
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.get_quote.ret, TDVMCALL_STATUS_INVALID_OPERAND);
	e.buf[0] = 1;
	memset(e.buf + 16, 0, 4); /* in_len 0 */
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.get_quote.ret, TDVMCALL_STATUS_INVALID_OPERAND);
	assert_int_equal(status(&e), 0);
	/* vectors below 32 and above 255 */
	memset(&run, 0, sizeof(run));
	run.tdx.nr = TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT;
	run.tdx.setup_event_notify.vector = 31;
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.setup_event_notify.ret, TDVMCALL_STATUS_INVALID_OPERAND);
	run.tdx.setup_event_notify.vector = 256;
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.setup_event_notify.ret, TDVMCALL_STATUS_INVALID_OPERAND);
	assert_false(e.t.notify_set);
	/* GetTdVmCallInfo leaf 1: GetQuote and SetupEventNotifyInterrupt;
	 * leaf 2 stays as KVM entered it (api.rst: "This TDVMCALL must
	 * succeed", ret SUCCESS and r11..r14 zero on entry) */
	memset(&run, 0, sizeof(run));
	run.tdx.nr = TDVMCALL_GET_TD_VM_CALL_INFO;
	run.tdx.get_tdvmcall_info.leaf = 1;
	run.tdx.get_tdvmcall_info.r12 = 7;
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.get_tdvmcall_info.ret, 0);
	assert_int_equal(run.tdx.get_tdvmcall_info.r11, 3);
	assert_int_equal(run.tdx.get_tdvmcall_info.r12, 0);
	memset(&run, 0, sizeof(run));
	run.tdx.nr = TDVMCALL_GET_TD_VM_CALL_INFO;
	run.tdx.get_tdvmcall_info.leaf = 2;
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.get_tdvmcall_info.ret, TDVMCALL_STATUS_SUCCESS);
	assert_int_equal(run.tdx.get_tdvmcall_info.r11, 0);
	/* an unknown TDVMCALL */
	memset(&run, 0, sizeof(run));
	run.tdx.nr = 0x10009;
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.unknown.ret, TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED);
	lines = down(&e);
	assert_string_equal(lines, ""); /* no interrupt, nothing else */
	free(lines);
}

/* The service's failures end up in the buffer's status. */
static void test_get_quote_service_errors(void **state)
{
	static uint8_t reply[28 + 0x3000];
	struct qgs_fake q;
	struct kvm_run run;
	struct env e;
	char *lines;

	(void)state;
	/* no --tdx-qgs: QGS_UNAVAILABLE at once */
	up(&e, false);
	exit_quote(&run, BUF_GPA, BUF_SIZE);
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.get_quote.ret, 0);
	assert_int_equal(status(&e), TDX_GET_QUOTE_QGS_UNAVAILABLE);
	free(down(&e));
	/* nobody listening: QGS_UNAVAILABLE */
	up(&e, true);
	unlink(e.addr.path);
	tdx_exit(&e.t, 0, &run);
	assert_int_equal(run.tdx.get_quote.ret, 0);
	tdx_run_ctx_drain(&e.t);
	assert_int_equal(status(&e), TDX_GET_QUOTE_QGS_UNAVAILABLE);
	tdx_run_ctx_init(&e.t, &e.mem, &e.addr);
	free(down(&e));
	/* closes without answering; answers with an error code; a quote larger than the buffer */
	struct { size_t n; } r[3];
	r[0].n = 0;
	r[1].n = response(reply, 100, 1, 0xe001, 0);
	for (int k = 0; k < 3; k++) {
		up(&e, true);
		if (k == 2)
			r[2].n = response(reply, 0x3000, 1, 0, 0);
		qgs_start(&q, k ? reply : NULL, r[k].n);
		tdx_exit(&e.t, 0, &run);
		assert_int_equal(run.tdx.get_quote.ret, 0);
		qgs_stop(&q);
		tdx_run_ctx_drain(&e.t);
		assert_int_equal(status(&e), TDX_GET_QUOTE_ERROR);
		assert_int_equal(out_len(&e), 0);
		assert_int_equal(e.t.quote_errors, 1);
		tdx_run_ctx_init(&e.t, &e.mem, &e.addr);
		lines = down(&e);
		assert_string_equal(lines, "");
		free(lines);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_request),
		cmocka_unit_test(test_parse_response),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_get_quote),
		cmocka_unit_test(test_get_quote_hostile),
		cmocka_unit_test(test_get_quote_service_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
