/* test_confine_seccomp.c - the per-thread seccomp allow-lists of cvmm run
 * (vmm/confine/seccomp.c). Each check that a call is refused runs in a
 * forked child that installs a role's filter and makes the call; the
 * parent checks the child died of SIGSYS (SECCOMP_RET_KILL_PROCESS). The
 * api role is run for real: the attestation endpoint started the way
 * cvmm run starts it (the filter installed just before libmicrohttpd makes
 * its threads) serves HTTPS requests relayed to a fake agent, and the sim
 * channel thread answers a request, both confined, without being killed. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "attestation/endpoint.h"
#include "common/common.h"
#include "sev/sev.h"
#include "sev/sim_wire.h"
#include "tests/fake_agent.h"
#include "vmm/confine/confine.h"
#include "vmm/kvm_uapi.h"

#define REPORT "tests/fixtures/evidence/snp/milan-virtee/report.bin"

/* The sanitizer runtimes make system calls of their own in every thread
 * (gettid, sigaltstack, ...) that no role allows: the real-thread checks
 * run in the plain build only. */
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_UNDER_SANITIZER() skip()
#else
#define SKIP_UNDER_SANITIZER() ((void)0)
#endif

/* Run fn(arg) in a child after installing role's filter with mode; returns
 * the wait status. The child exits 0 when fn returns. */
static int in_child(enum confine_role role, enum confine_seccomp_mode mode, void (*fn)(void *), void *arg)
{
	int st = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (confine_seccomp_install(role, mode))
			_exit(100);
		fn(arg);
		syscall(SYS_exit_group, 0); /* exit() would run atexit handlers; exit_group is not on every list */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static bool killed_by_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static void call_openat(void *arg)
{
	(void)arg;
	syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
}

static void call_socket(void *arg)
{
	(void)arg;
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static void call_execve(void *arg)
{
	char *argv[] = { "/bin/true", NULL };
	(void)arg;
	syscall(SYS_execve, "/bin/true", argv, NULL);
}

static void call_ioctl(void *arg)
{
	/* fd -1: if the filter lets it through, the kernel says EBADF */
	syscall(SYS_ioctl, -1, *(unsigned long *)arg, 0);
}

static void call_ioctl_expect_ebadf(void *arg)
{
	long r = syscall(SYS_ioctl, -1, *(unsigned long *)arg, 0);
	if (r != -1 || errno != EBADF)
		syscall(SYS_exit_group, 3);
}

/* exit_group is on the vmm list only: the other children end with the
 * thread's exit, which is the process's when it is the only thread. */
static void end_child(void)
{
	syscall(SYS_exit, 0);
}

static void allowed_then_exit(void *arg)
{
	call_ioctl_expect_ebadf(arg);
	end_child();
}

/* ---- sizes and contents ---- */

static bool has_syscall(const struct confine_list *l, const char *name)
{
	for (size_t i = 0; i < l->nsyscalls; i++)
		if (!strcmp(l->syscalls[i], name))
			return true;
	return false;
}

static bool has_ioctl(const struct confine_list *l, uint32_t req)
{
	for (size_t i = 0; i < l->nioctls; i++)
		if (l->ioctls[i].req == req)
			return true;
	return false;
}

static void test_budgets(void **state)
{
	static const unsigned budget[CONFINE_NROLES] = { [CONFINE_VCPU] = 27, [CONFINE_VMM] = 50, [CONFINE_API] = 31 };

	(void)state;
	for (unsigned r = 0; r < CONFINE_NROLES; r++) {
		const struct confine_list *l = confine_seccomp_list(r);
		assert_non_null(l);
		assert_true(l->nsyscalls <= budget[r]);
		assert_true(l->nsyscalls <= l->budget);
		/* no duplicates */
		for (size_t i = 0; i < l->nsyscalls; i++)
			for (size_t j = i + 1; j < l->nsyscalls; j++)
				assert_string_not_equal(l->syscalls[i], l->syscalls[j]);
		/* what only the launch needs is on no list */
		assert_false(has_ioctl(l, KVM_MEMORY_ENCRYPT_OP));
		assert_false(has_ioctl(l, KVM_CREATE_VCPU));
		assert_false(has_ioctl(l, KVM_CREATE_VM));
		assert_false(has_ioctl(l, KVM_SET_USER_MEMORY_REGION));
		assert_false(has_ioctl(l, KVM_SET_USER_MEMORY_REGION2));
		assert_false(has_syscall(l, "openat"));
		assert_false(has_syscall(l, "execve"));
		assert_false(has_syscall(l, "ptrace"));
	}
	assert_true(has_ioctl(confine_seccomp_list(CONFINE_VCPU), KVM_RUN));
	assert_false(has_ioctl(confine_seccomp_list(CONFINE_VMM), KVM_RUN));
	assert_false(has_syscall(confine_seccomp_list(CONFINE_VCPU), "socket"));
}

/* The JSON of --print-seccomp / cvmm seccomp dump: the three roles, sizes
 * as in the tables, ioctls as hex strings. */
static void test_dump(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *o;

	(void)state;
	assert_non_null(f);
	assert_int_equal(confine_seccomp_dump(f), 0);
	fclose(f);
	o = json_loads(buf, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 3);
	for (unsigned r = 0; r < CONFINE_NROLES; r++) {
		const struct confine_list *l = confine_seccomp_list(r);
		json_t *role = json_object_get(o, l->role);
		assert_non_null(role);
		assert_int_equal(json_array_size(json_object_get(role, "syscalls")), l->nsyscalls);
		assert_int_equal(json_array_size(json_object_get(role, "ioctls")), l->nioctls);
	}
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(o, "vcpu"), "ioctls"), 0)),
			    "0xae80");
	json_decref(o);
	free(buf);
}

/* ---- refused calls kill the process ---- */

static void test_vcpu_refuses(void **state)
{
	unsigned long enc = KVM_MEMORY_ENCRYPT_OP, create = KVM_CREATE_VCPU, mem = KVM_SET_USER_MEMORY_REGION;

	(void)state;
	assert_true(killed_by_sigsys(in_child(CONFINE_VCPU, CONFINE_SECCOMP_KILL, call_openat, NULL)));
	assert_true(killed_by_sigsys(in_child(CONFINE_VCPU, CONFINE_SECCOMP_KILL, call_socket, NULL)));
	assert_true(killed_by_sigsys(in_child(CONFINE_VCPU, CONFINE_SECCOMP_KILL, call_ioctl, &enc)));
	assert_true(killed_by_sigsys(in_child(CONFINE_VCPU, CONFINE_SECCOMP_KILL, call_ioctl, &create)));
	assert_true(killed_by_sigsys(in_child(CONFINE_VCPU, CONFINE_SECCOMP_KILL, call_ioctl, &mem)));
}

static void test_vmm_refuses(void **state)
{
	unsigned long enc = KVM_MEMORY_ENCRYPT_OP, run = KVM_RUN, mem2 = KVM_SET_USER_MEMORY_REGION2;

	(void)state;
	assert_true(killed_by_sigsys(in_child(CONFINE_VMM, CONFINE_SECCOMP_KILL, call_socket, NULL)));
	assert_true(killed_by_sigsys(in_child(CONFINE_VMM, CONFINE_SECCOMP_KILL, call_execve, NULL)));
	assert_true(killed_by_sigsys(in_child(CONFINE_VMM, CONFINE_SECCOMP_KILL, call_ioctl, &enc)));
	assert_true(killed_by_sigsys(in_child(CONFINE_VMM, CONFINE_SECCOMP_KILL, call_ioctl, &run)));
	assert_true(killed_by_sigsys(in_child(CONFINE_VMM, CONFINE_SECCOMP_KILL, call_ioctl, &mem2)));
}

static void test_api_refuses(void **state)
{
	unsigned long run = KVM_RUN;

	(void)state;
	assert_true(killed_by_sigsys(in_child(CONFINE_API, CONFINE_SECCOMP_KILL, call_openat, NULL)));
	assert_true(killed_by_sigsys(in_child(CONFINE_API, CONFINE_SECCOMP_KILL, call_execve, NULL)));
	assert_true(killed_by_sigsys(in_child(CONFINE_API, CONFINE_SECCOMP_KILL, call_ioctl, &run)));
}

/* Allowed ioctls pass (the kernel then answers EBADF), also with the upper
 * 32 bits set as a sign-extended int request would have them. */
static void test_allowed_ioctls(void **state)
{
	unsigned long run = KVM_RUN, ext = 0xffffffff00000000ul | KVM_SIGNAL_MSI, tc = TCSETS;

	(void)state;
	int st = in_child(CONFINE_VCPU, CONFINE_SECCOMP_KILL, allowed_then_exit, &run);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_child(CONFINE_VCPU, CONFINE_SECCOMP_KILL, allowed_then_exit, &ext);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_child(CONFINE_VMM, CONFINE_SECCOMP_KILL, allowed_then_exit, &tc);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* glibc makes and grows a thread's malloc arena with mprotect: vcpu and
 * vmm threads may make memory readable/writable, never executable. */
static void mprotect_rw(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	if (p == MAP_FAILED || mprotect(p, 4096, PROT_READ | PROT_WRITE))
		syscall(SYS_exit_group, 3);
	end_child();
}

static void mprotect_exec(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	if (p != MAP_FAILED)
		mprotect(p, 4096, PROT_READ | PROT_EXEC);
	end_child();
}

static void test_mprotect_no_exec(void **state)
{
	(void)state;
	for (enum confine_role r = CONFINE_VCPU; r <= CONFINE_VMM; r++) {
		int st = in_child(r, CONFINE_SECCOMP_KILL, mprotect_rw, NULL);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		assert_true(killed_by_sigsys(in_child(r, CONFINE_SECCOMP_KILL, mprotect_exec, NULL)));
	}
}

/* A thread that takes a role's filter can end normally (glibc blocks
 * signals, gives back its stack and exits) and be joined. */
static void *role_thread(void *arg)
{
	if (confine_seccomp_install(*(enum confine_role *)arg, CONFINE_SECCOMP_KILL))
		syscall(SYS_exit_group, 100);
	return NULL;
}

static void test_thread_ends(void **state)
{
	(void)state;
	SKIP_UNDER_SANITIZER();
	for (enum confine_role r = 0; r < CONFINE_NROLES; r++) {
		int st;
		pid_t pid;

		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			pthread_t t;
			if (pthread_create(&t, NULL, role_thread, &r) || pthread_join(t, NULL))
				_exit(101);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("role %s: a thread ending with its filter: status 0x%x", confine_seccomp_list(r)->role, st);
	}
}

/* --seccomp=log: the same refused call is let through. */
static void openat_then_exit(void *arg)
{
	call_openat(arg);
	end_child();
}

static void test_log_mode(void **state)
{
	(void)state;
	int st = in_child(CONFINE_VCPU, CONFINE_SECCOMP_LOG, openat_then_exit, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_child(CONFINE_VCPU, CONFINE_SECCOMP_OFF, openat_then_exit, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Every confined thread shows "Seccomp: 2" and "NoNewPrivs: 1" in
 * /proc/PID/status (what tests/nested checks of a running cvmm). */
static void wait_pipe(void *arg)
{
	char c;
	(void)!read(*(int *)arg, &c, 1); /* until the parent closes it */
	end_child();
}

static void test_status_fields(void **state)
{
	(void)state;
	for (unsigned r = 0; r < CONFINE_NROLES; r++) {
		int p[2], st;
		char path[64], buf[4096];
		FILE *f;
		size_t n;
		pid_t pid;

		assert_int_equal(pipe(p), 0);
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[1]);
			if (confine_seccomp_install(r, CONFINE_SECCOMP_KILL))
				_exit(100);
			wait_pipe(&p[0]);
		}
		close(p[0]);
		/* the filter is in once the child blocks in read: poll its status */
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		for (int i = 0; i < 500; i++) {
			assert_non_null(f = fopen(path, "r"));
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = 0;
			if (strstr(buf, "Seccomp:\t2"))
				break;
			usleep(10000);
		}
		assert_non_null(strstr(buf, "Seccomp:\t2"));
		assert_non_null(strstr(buf, "NoNewPrivs:\t1"));
		close(p[1]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

static void test_parse(void **state)
{
	enum confine_seccomp_mode m;

	(void)state;
	assert_int_equal(confine_seccomp_parse("kill", &m), 0);
	assert_int_equal(m, CONFINE_SECCOMP_KILL);
	assert_int_equal(confine_seccomp_parse("log", &m), 0);
	assert_int_equal(m, CONFINE_SECCOMP_LOG);
	assert_int_equal(confine_seccomp_parse("off", &m), 0);
	assert_int_equal(m, CONFINE_SECCOMP_OFF);
	assert_int_equal(confine_seccomp_parse("on", &m), -EINVAL);
	assert_non_null(strstr(err_msg(), "--seccomp=on"));
}

/* ---- the api role, for real ---- */


static int api_hook(void)
{
	return confine_seccomp_install(CONFINE_API, CONFINE_SECCOMP_KILL);
}

struct ep_start {
	struct att_endpoint_cfg cfg;
	struct att_endpoint *ep;
	int rc;
};

static void *ep_thread(void *arg)
{
	struct ep_start *s = arg;
	s->rc = att_endpoint_start(&s->cfg, &s->ep);
	return NULL;
}

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	return bb_append(arg, p, size * n) ? 0 : size * n;
}

static long https(unsigned port, const char *path, const char *body, struct bytebuf *out)
{
	char url[128];
	long status = 0;
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

static void test_api_endpoint_confined(void **state)
{
	char dir[] = "/tmp/cvmm-confine-test.XXXXXX", cmd[128];
	static struct fake_agent fa; /* outlives a failed assertion */
	uint8_t *report;
	size_t report_len;
	int pfd[2], st;
	unsigned port = 0;
	pid_t pid;

	(void)state;
	SKIP_UNDER_SANITIZER();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(file_read(REPORT, 1 << 20, &report, &report_len), 0);
	fa.report = report;
	fa.report_len = report_len;
	assert_int_equal(fake_agent_start(&fa, dir), 0);
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ep_start s = { .cfg = { .listen = "127.0.0.1:0", .agent_addr = fa.addr } };
		pthread_t t;

		att_endpoint_before_threads = api_hook;
		if (pthread_create(&t, NULL, ep_thread, &s) || pthread_join(t, NULL) || s.rc)
			_exit(100);
		port = att_endpoint_port(s.ep);
		if (write(pfd[1], &port, sizeof(port)) != sizeof(port))
			_exit(101);
		for (;;)
			pause();
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &port, sizeof(port)), sizeof(port));
	close(pfd[0]);
	assert_true(port > 0);

	struct bytebuf b = { 0 };
	assert_int_equal(https(port, "/v1/health", NULL, &b), 200);
	b.len = 0;
	assert_int_equal(https(port, "/v1/evidence", "{\"nonce\": \"000102030405060708090a0b0c0d0e0f\"}", &b), 200);
	assert_non_null(memmem(b.data, b.len, "\"report\"", 8));
	b.len = 0;
	assert_int_equal(https(port, "/v1/evidence", "{\"nonce\": \"zz\"}", &b), 400);
	b.len = 0;
	assert_int_equal(https(port, "/v1/nothing", NULL, &b), 404);
	bb_free(&b);
	/* still alive: nothing the threads did was off the api list */
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

	fake_agent_stop(&fa);
	free(report);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = read(fd, p, n);
		assert_true(k > 0);
		p += k;
		n -= (size_t)k;
	}
}

static void channel_hook(void)
{
	confine_thread(CONFINE_API);
}

static void test_api_sim_channel_confined(void **state)
{
	char dir[] = "/tmp/cvmm-confine-sim.XXXXXX", addr[128], cmd[128];
	uint8_t req[SNP_SIM_REQ_LEN], rd[64] = { 1 }, hdr[SNP_SIM_HDR_LEN];
	struct snp_sim *sp;
	int pfd[2], st, fd;
	pid_t pid;
	char c;

	(void)state;
	SKIP_UNDER_SANITIZER();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(snp_sim_open(dir, &sp), 0);
	struct snp_sim_launch l = { .policy = 0x30000 };
	assert_int_equal(snp_sim_launch(sp, &l), 0);
	snprintf(addr, sizeof(addr), "unix:%s/sim.sock", dir);
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct snp_sim_channel *ch;

		confine_seccomp_set_mode(CONFINE_SECCOMP_KILL);
		snp_sim_channel_thread_hook = channel_hook;
		if (snp_sim_channel_start(sp, addr, 3, &ch))
			_exit(100);
		if (write(pfd[1], "r", 1) != 1)
			_exit(101);
		for (;;)
			pause();
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sim.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* a launched guest's requests: a signed report, then one with the
	 * certificate table (OpenSSL signing in the confined thread) */
	for (int ext = 0; ext < 2; ext++) {
		uint16_t type;
		uint32_t plen = 0;
		uint8_t *payload;

		assert_int_equal(snp_sim_req_encode(req, rd, 0, ext), 0);
		assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
		read_all(fd, hdr, sizeof(hdr));
		assert_int_equal(snp_sim_hdr_parse(hdr, sizeof(hdr), "response", &type, &plen), 0);
		assert_true(plen >= SNP_SIM_REPORT_LEN);
		assert_non_null(payload = malloc(plen));
		read_all(fd, payload, plen);
		free(payload);
	}
	close(fd);
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	snp_sim_close(sp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budgets),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_vcpu_refuses),
		cmocka_unit_test(test_vmm_refuses),
		cmocka_unit_test(test_api_refuses),
		cmocka_unit_test(test_allowed_ioctls),
		cmocka_unit_test(test_mprotect_no_exec),
		cmocka_unit_test(test_thread_ends),
		cmocka_unit_test(test_log_mode),
		cmocka_unit_test(test_status_fields),
		cmocka_unit_test(test_api_endpoint_confined),
		cmocka_unit_test(test_api_sim_channel_confined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
