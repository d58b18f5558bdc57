/* test_cc_seccomp.c - the seccomp role filters on the confidential run
 * path (vmm/cc_run.c, tdx/tdx_exit.c): what the private/shared conversion
 * does on a vCPU thread is on the vcpu list, the launch's ioctls are not
 * (on the vcpu list nor on the main thread's vmm list once the vCPUs run),
 * and a TD's GetQuote threads reach a QGS on a unix socket under the api
 * role while the main thread raises the notification. Every check runs in
 * a forked child with the filters in kill mode; the parent reads its exit
 * status (SIGSYS: a call was refused). No /dev/kvm: KVM ioctls go to a
 * memfd, where a call the filter lets through gets ENOTTY from the kernel.
 *
 * Expectations from Documentation/virt/kvm/api.rst (KVM_EXIT_MEMORY_FAULT,
 * KVM_HC_MAP_GPA_RANGE: attributes bit 4 encrypted) and fallocate(2)
 * (PUNCH_HOLE|KEEP_SIZE reads back zeros), madvise(2) (DONTNEED on a
 * private anonymous mapping reads back zeros). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "tests/fake_qgs.h"
#include "tdx/backend_tdx.h"
#include "vmm/confine/confine.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"
#include "vmm/vmm_core.h"

/* The sanitizer runtimes make system calls of their own in every thread
 * that no role allows: the checks with real threads run in the plain build. */
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_UNDER_SANITIZER() skip()
#else
#define SKIP_UNDER_SANITIZER() ((void)0)
#endif

#define RAM 0x10000ull
#define PG 0x1000ull

static bool killed_by_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static int exited(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* fork; the child runs fn(arg) and ends with its value (exit_group is on
 * the vmm list; a vcpu-only child ends with the thread's exit). */
static int in_child(int (*fn)(void *), void *arg)
{
	int st = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = fn(arg);
		syscall(SYS_exit, rc); /* the only thread left in these children */
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* A memfd standing for the guest_memfd (RAM bytes of 0xaa) and an
 * anonymous mapping for the shared backing (0x55). */
struct backing {
	int gmem;
	uint8_t *host;
	struct cc_slot slot;
};

static void backing_make(struct backing *b)
{
	uint8_t page[PG];

	assert_true((b->gmem = memfd_create("cc-gmem", MFD_CLOEXEC)) >= 0);
	memset(page, 0xaa, sizeof(page));
	for (uint64_t off = 0; off < RAM; off += PG)
		assert_int_equal(pwrite(b->gmem, page, PG, (off_t)off), (ssize_t)PG);
	b->host = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(b->host != MAP_FAILED);
	memset(b->host, 0x55, RAM);
	b->slot = (struct cc_slot){ .gpa = 0, .size = RAM, .host = b->host, .gmem_fd = b->gmem };
}

static void backing_free(struct backing *b)
{
	munmap(b->host, RAM);
	close(b->gmem);
}

/* gmem page at off reads as all v */
static bool gmem_is(int fd, uint64_t off, uint8_t v)
{
	uint8_t page[PG];

	if (pread(fd, page, PG, (off_t)off) != (ssize_t)PG)
		return false;
	for (size_t i = 0; i < PG; i++)
		if (page[i] != v)
			return false;
	return true;
}

static bool host_is(const uint8_t *p, uint8_t v)
{
	for (size_t i = 0; i < PG; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ---- the conversion's system calls, one by one, under the vcpu role ---- */
static int conversion_calls(void *arg)
{
	struct backing *b = arg;
	struct kvm_memory_attributes a = { .address = 0x2000, .size = PG, .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE };

	if (confine_seccomp_install(CONFINE_VCPU, CONFINE_SECCOMP_KILL))
		return 100;
	/* allowed: the kernel answers (a memfd is no VM), no SIGSYS; also
	 * with the upper 32 bits set as a sign-extended request has them */
	if (syscall(SYS_ioctl, b->gmem, KVM_SET_MEMORY_ATTRIBUTES, &a) != -1 || errno != ENOTTY)
		return 1;
	if (syscall(SYS_ioctl, b->gmem, 0xffffffff00000000ul | KVM_SET_MEMORY_ATTRIBUTES, &a) != -1 || errno != ENOTTY)
		return 2;
	if (syscall(SYS_fallocate, b->gmem, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0x2000, PG))
		return 3;
	if (syscall(SYS_madvise, b->host + 0x4000, PG, MADV_DONTNEED))
		return 4;
	if (!gmem_is(b->gmem, 0x2000, 0) || !gmem_is(b->gmem, 0x3000, 0xaa))
		return 5;
	if (!host_is(b->host + 0x4000, 0) || !host_is(b->host + 0x5000, 0x55))
		return 6;
	return 0;
}

static void test_vcpu_conversion_calls(void **state)
{
	struct backing b;

	(void)state;
	backing_make(&b);
	int st = in_child(conversion_calls, &b);
	if (exited(st) != 0)
		fail_msg("child status %#x (SIGSYS: %d)", st, killed_by_sigsys(st));
	backing_free(&b);
}

/* ---- what only the launch does stays refused ---- */
static int launch_ioctl(void *arg)
{
	unsigned long req = *(unsigned long *)arg;

	if (confine_seccomp_install(CONFINE_VCPU, CONFINE_SECCOMP_KILL))
		return 100;
	syscall(SYS_ioctl, 0, req, NULL);
	return 0;
}

static void test_vcpu_refuses_launch(void **state)
{
	unsigned long req[] = { KVM_MEMORY_ENCRYPT_OP, KVM_CREATE_VCPU, KVM_SET_USER_MEMORY_REGION2,
				KVM_CREATE_GUEST_MEMFD };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(req); i++)
		if (!killed_by_sigsys(in_child(launch_ioctl, &req[i])))
			fail_msg("ioctl %#lx was not refused", req[i]);
}

/* ---- cc_run_vm itself with the filters in kill mode ----
 * A fake KVM: the vCPU's KVM_RUN gives a memory fault to shared at 0x2000,
 * a MAP_GPA_RANGE to private at 0x4000, then a shutdown; the attribute
 * ioctl is made for real on the memfd (ENOTTY counts as done). */
static struct kvm_run *fake_run;
static unsigned fake_step, attr_calls;

static int fake_ioctl(struct cc_io *io, int fd, unsigned long req, void *arg)
{
	(void)io;
	if (req == KVM_RUN) {
		switch (fake_step++) {
		case 0:
			fake_run->exit_reason = KVM_EXIT_MEMORY_FAULT;
			fake_run->memory_fault.flags = 0; /* a shared access */
			fake_run->memory_fault.gpa = 0x2000;
			fake_run->memory_fault.size = PG;
			return -EFAULT;
		case 1:
			fake_run->exit_reason = KVM_EXIT_HYPERCALL;
			fake_run->hypercall.nr = KVM_HC_MAP_GPA_RANGE;
			fake_run->hypercall.args[0] = 0x4000;
			fake_run->hypercall.args[1] = 1;
			fake_run->hypercall.args[2] = KVM_MAP_GPA_RANGE_ENCRYPTED;
			fake_run->hypercall.ret = 99;
			return 0;
		default:
			fake_run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
			fake_run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
			return 0;
		}
	}
	if (req == KVM_SET_MEMORY_ATTRIBUTES) {
		if (syscall(SYS_ioctl, fd, req, arg) == -1 && errno == ENOTTY) {
			attr_calls++;
			return 0;
		}
		return -EIO;
	}
	if (req == KVM_MEMORY_ENCRYPT_OP) /* after the run: must not get here */
		return (int)syscall(SYS_ioctl, fd, req, arg);
	return req == KVM_ENABLE_CAP ? 0 : -ENOTTY;
}

static struct kvm_run *fake_map_run(struct cc_io *io, int kvm_fd, int vcpu_fd, size_t *len)
{
	(void)io, (void)kvm_fd, (void)vcpu_fd;
	*len = 2 * PG;
	return fake_run = calloc(1, *len); /* before the filters */
}

static void fake_unmap_run(struct cc_io *io, struct kvm_run *run, size_t len)
{
	(void)io, (void)len;
	free(run);
}

struct run_case {
	struct backing b;
	bool encrypt_after; /* try KVM_MEMORY_ENCRYPT_OP on the main thread after the run */
};

static int run_confined(void *arg)
{
	struct run_case *c = arg;
	struct cc_io io = cc_io_real; /* real fallocate and madvise */
	int vcpu_fd = c->b.gmem;
	struct cc_vm_view v = { .io = &io, .kvm_fd = -1, .vm_fd = c->b.gmem, .slot = &c->b.slot, .nslot = 1,
				.private_mem = true, .vcpu_fd = &vcpu_fd, .nvcpus = 1 };
	struct cc_mem mem;
	struct cc_runner r;
	int st;

	io.ioctl = fake_ioctl;
	io.map_run = fake_map_run;
	io.unmap_run = fake_unmap_run;
	confine_seccomp_set_mode(CONFINE_SECCOMP_KILL);
	cc_mem_init(&mem, &io, v.vm_fd, v.slot, 1, true);
	cc_runner_init(&r, &mem);
	st = cc_run_vm(&v, &r);
	if (c->encrypt_after)
		io.ioctl(&io, v.vm_fd, KVM_MEMORY_ENCRYPT_OP, NULL);
	if (st != VMM_EXIT_POWEROFF)
		return 10;
	if (attr_calls != 2 || mem.to_shared != 1 || mem.to_private != 1 || mem.release_errors)
		return 11;
	if (!gmem_is(c->b.gmem, 0x2000, 0) || !gmem_is(c->b.gmem, 0x3000, 0xaa)) /* pread64: on the vmm list */
		return 12;
	if (!host_is(c->b.host + 0x4000, 0) || !host_is(c->b.host + 0x5000, 0x55))
		return 13;
	if (confine_seccomp_get_mode() != CONFINE_SECCOMP_KILL)
		return 14;
	syscall(SYS_exit_group, 0);
	return 0;
}

static void test_cc_run_confined(void **state)
{
	struct run_case c = { 0 };

	(void)state;
	SKIP_UNDER_SANITIZER();
	backing_make(&c.b);
	int st = in_child(run_confined, &c);
	if (exited(st) != 0)
		fail_msg("child status %#x (SIGSYS: %d)", st, killed_by_sigsys(st));
	/* the main thread holds the vmm role once the vCPUs run: the launch's
	 * KVM_MEMORY_ENCRYPT_OP kills */
	c.encrypt_after = true;
	assert_true(killed_by_sigsys(in_child(run_confined, &c)));
	backing_free(&c.b);
}

/* ---- GetQuote: vCPU thread (vcpu), dispatcher and quote thread (api),
 * main thread raising the notification (vmm) ---- */
static unsigned msi_calls;
static struct kvm_msi msi_seen;

static int quote_ioctl(struct cc_io *io, int fd, unsigned long req, void *arg)
{
	(void)io;
	if (req == KVM_SIGNAL_MSI && syscall(SYS_ioctl, fd, req, arg) == -1 && errno == ENOTTY) {
		memcpy(&msi_seen, arg, sizeof(msi_seen));
		msi_calls++;
		return 0;
	}
	return -EIO;
}

struct quote_case {
	struct backing b;
	struct tdx_run_ctx t;
	uint64_t ret_notify, ret_quote;
};

#define QBUF 0x8000ull
#define QREPORT 1024

static void *vcpu_thread(void *arg)
{
	struct quote_case *c = arg;
	struct kvm_run run;

	if (confine_seccomp_install(CONFINE_VCPU, CONFINE_SECCOMP_KILL))
		syscall(SYS_exit_group, 100);
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_TDX;
	run.tdx.nr = TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT;
	run.tdx.setup_event_notify.vector = 0xf3;
	tdx_exit(&c->t, 0, &run);
	c->ret_notify = run.tdx.setup_event_notify.ret;
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_TDX;
	run.tdx.nr = TDVMCALL_GET_QUOTE;
	run.tdx.get_quote.gpa = QBUF;
	run.tdx.get_quote.size = 0x2000;
	tdx_exit(&c->t, 0, &run);
	c->ret_quote = run.tdx.get_quote.ret;
	return NULL;
}

static int quote_confined(void *arg)
{
	static uint8_t reply[28 + 300];
	struct quote_case *c = arg;
	struct cc_io io = cc_io_real;
	struct qgs_addr addr = { 0 };
	struct qgs_fake q;
	struct cc_mem mem;
	pthread_t vcpu;
	uint8_t *buf = c->b.host + QBUF;
	uint64_t version = 1, status;
	uint32_t in_len = QREPORT, out;

	io.ioctl = quote_ioctl;
	memcpy(buf, &version, 8);
	memset(buf + 8, 0, 8);
	memcpy(buf + 16, &in_len, 4);
	memset(buf + 20, 0, 4);
	memset(buf + 24, 'R', QREPORT);
	qgs_start(&q, reply, response(reply, 300, 1, 0, 0)); /* its thread: before any filter */
	snprintf(addr.path, sizeof(addr.path), "%s", q.path);
	cc_mem_init(&mem, &io, c->b.gmem, &c->b.slot, 1, true);
	tdx_run_ctx_init(&c->t, &mem, &addr);
	confine_seccomp_set_mode(CONFINE_SECCOMP_KILL);
	if (tdx_run_ctx_start(&c->t) || c->t.notify_fd < 0)
		return 20;
	if (pthread_create(&vcpu, NULL, vcpu_thread, c))
		return 21;
	if (confine_seccomp_install(CONFINE_VMM, CONFINE_SECCOMP_KILL))
		return 22;
	/* as cc_run_vcpus waits: the eventfd, then the interrupt */
	while (!msi_calls) {
		struct pollfd p = { .fd = c->t.notify_fd, .events = POLLIN };

		if (poll(&p, 1, -1) > 0)
			tdx_run_ctx_wake(&c->t);
	}
	pthread_join(vcpu, NULL);
	pthread_join(q.tid, NULL); /* the socket file is the parent's to remove (unlink is on no list) */
	tdx_run_ctx_drain(&c->t);
	memcpy(&status, buf + 8, 8);
	memcpy(&out, buf + 20, 4);
	if (c->ret_notify != TDVMCALL_STATUS_SUCCESS || c->ret_quote != TDVMCALL_STATUS_SUCCESS)
		return 23;
	if (status != TDX_GET_QUOTE_SUCCESS || out != 300 || buf[24] != 'Q' || buf[24 + 299] != 'Q')
		return 24;
	/* the QGS got the framed request around the report */
	if (q.rx_len != 4 + 24 + QREPORT || q.rx[28] != 'R')
		return 25;
	if (c->t.quotes != 1 || msi_calls != 1 || msi_seen.address_lo != 0xfee00000u || msi_seen.data != 0xf3)
		return 26;
	syscall(SYS_exit_group, 0);
	return 0;
}

static void test_quote_confined(void **state)
{
	struct quote_case c;
	char path[108];
	pid_t pid;
	int st = 0;

	(void)state;
	SKIP_UNDER_SANITIZER();
	memset(&c, 0, sizeof(c));
	backing_make(&c.b);
	fflush(NULL);
	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(quote_confined(&c));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	snprintf(path, sizeof(path), "/tmp/test_tdx_exit.%d.sock", (int)pid); /* fake_qgs.h's name in the child */
	unlink(path);
	if (exited(st) != 0)
		fail_msg("child status %#x (SIGSYS: %d)", st, killed_by_sigsys(st));
	backing_free(&c.b);
}

/* The api role a quote thread runs under: connect, send, recv on a unix
 * socket (qgs.c), with the filter on the calling thread itself. */
static int qgs_client_confined(void *arg)
{
	static uint8_t reply[28 + 64];
	uint8_t report[64], *quote = NULL;
	struct qgs_addr addr = { 0 };
	struct qgs_fake q;
	uint32_t qlen = 0;

	(void)arg;
	memset(report, 'R', sizeof(report));
	qgs_start(&q, reply, response(reply, 64, 1, 0, 0));
	snprintf(addr.path, sizeof(addr.path), "%s", q.path);
	if (confine_seccomp_install(CONFINE_API, CONFINE_SECCOMP_KILL))
		return 100;
	int rc = qgs_get_quote(&addr, report, sizeof(report), 5000, &quote, &qlen);

	pthread_join(q.tid, NULL); /* the fake's thread ends before the child does (futex) */
	if (rc || qlen != 64 || quote[0] != 'Q' || q.rx_len != 4 + 24 + sizeof(report))
		return 30;
	free(quote);
	return 0;
}

static void test_qgs_client_api_role(void **state)
{
	char path[108];
	pid_t pid;
	int st = 0;

	(void)state;
	SKIP_UNDER_SANITIZER();
	fflush(NULL);
	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		syscall(SYS_exit, qgs_client_confined(NULL)); /* exit_group is not on the api list */
	assert_int_equal(waitpid(pid, &st, 0), pid);
	snprintf(path, sizeof(path), "/tmp/test_tdx_exit.%d.sock", (int)pid);
	unlink(path);
	if (exited(st) != 0)
		fail_msg("child status %#x (SIGSYS: %d)", st, killed_by_sigsys(st));
}

/* What was added stays inside the budgets and is in the dump. */
static void test_lists(void **state)
{
	const struct confine_list *l = confine_seccomp_list(CONFINE_VCPU);
	bool attr = false;

	(void)state;
	for (size_t i = 0; i < l->nioctls; i++)
		attr |= l->ioctls[i].req == (uint32_t)KVM_SET_MEMORY_ATTRIBUTES;
	assert_true(attr);
	assert_true(l->nsyscalls <= 27);
	assert_true(confine_seccomp_list(CONFINE_VMM)->nsyscalls <= 50);
	assert_true(confine_seccomp_list(CONFINE_API)->nsyscalls <= 31);
	for (unsigned r = 0; r < CONFINE_NROLES; r++) {
		l = confine_seccomp_list(r);
		for (size_t i = 0; i < l->nioctls; i++) {
			assert_int_not_equal(l->ioctls[i].req, (uint32_t)KVM_MEMORY_ENCRYPT_OP);
			assert_int_not_equal(l->ioctls[i].req, (uint32_t)KVM_CREATE_GUEST_MEMFD);
		}
	}

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char hex[16];

	assert_non_null(f);
	assert_int_equal(confine_seccomp_dump(f), 0);
	fclose(f);
	snprintf(hex, sizeof(hex), "\"0x%x\"", (uint32_t)KVM_SET_MEMORY_ATTRIBUTES);
	assert_non_null(strstr(buf, hex));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_vcpu_conversion_calls),
		cmocka_unit_test(test_vcpu_refuses_launch),
		cmocka_unit_test(test_cc_run_confined),
		cmocka_unit_test(test_qgs_client_api_role),
		cmocka_unit_test(test_quote_confined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
