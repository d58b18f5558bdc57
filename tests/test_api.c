/* test_api.c - the control API (vmm/api*.c) without KVM: routing and
 * status codes as Cloud Hypervisor's, VmConfig applied to the run options
 * and back, and the server on a Unix socket driven with libcurl under the
 * api seccomp filter: socket mode, the state machine up to Created, and
 * hostile requests (huge bodies, bad JSON, wrong methods, unknown fields,
 * unknown paths) answered 4xx with the server still serving; when run as
 * root, a peer of another uid gets 403 (SO_PEERCRED) and a peer in the
 * --api-socket-group group is let in; sd_notify READY=1 and STOPPING=1. */
#include <errno.h>
#include <pthread.h>
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
#include <curl/curl.h>

#include "vmm/api.h"
#include "vmm/vmm_core.h"

#define VMCONFIG                                                                                             \
	"{\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":2},\"memory\":{\"size\":268435456},"                          \
	"\"payload\":{\"kernel\":\"/k\",\"initramfs\":\"/i\",\"cmdline\":\"console=hvc0\"},"                       \
	"\"disks\":[{\"path\":\"/d0\",\"readonly\":true},{\"path\":\"/d1\"}],\"rng\":{\"src\":\"/dev/urandom\"}," \
	"\"serial\":{\"mode\":\"Off\"},\"console\":{\"mode\":\"Tty\"},\"vsock\":{\"cid\":7,\"socket\":\"/v\"},"      \
	"\"platform\":{\"sev_snp\":true}}"

static int parse(const char *method, const char *url, const char *body, struct api_request *rq)
{
	return api_request_parse(method, url, body, body ? strlen(body) : 0, rq);
}

static void test_routes(void **state)
{
	struct api_request rq;

	(void)state;
	assert_int_equal(parse("GET", "/api/v1/vmm.ping", NULL, &rq), 0);
	assert_int_equal(rq.op, API_VMM_PING);
	assert_int_equal(parse("PUT", "/api/v1/vm.pause", NULL, &rq), 0);
	assert_int_equal(rq.op, API_VM_PAUSE);
	assert_int_equal(parse("PUT", "/api/v1/vm.power-button", NULL, &rq), 0);
	assert_int_equal(rq.op, API_VM_POWER_BUTTON);
	assert_int_equal(parse("GET", "/api/v1/vm.attestation", NULL, &rq), 0);
	assert_int_equal(rq.op, API_VM_ATTESTATION);
	/* wrong method: 400, as Cloud Hypervisor's EndpointHandler */
	assert_int_equal(parse("GET", "/api/v1/vm.pause", NULL, &rq), -1);
	assert_int_equal(rq.status, 400);
	assert_non_null(strstr(rq.msg, "PUT"));
	assert_int_equal(parse("DELETE", "/api/v1/vmm.ping", NULL, &rq), -1);
	assert_int_equal(rq.status, 400);
	/* unknown paths: 404; Cloud Hypervisor's endpoints cvmm lacks: 500 naming it */
	assert_int_equal(parse("GET", "/api/v1/vm.nothing", NULL, &rq), -1);
	assert_int_equal(rq.status, 404);
	assert_int_equal(parse("GET", "/", NULL, &rq), -1);
	assert_int_equal(rq.status, 404);
	assert_int_equal(parse("PUT", "/api/v1/vm.snapshot", "{}", &rq), -1);
	assert_int_equal(rq.status, 500);
	assert_non_null(strstr(rq.msg, "vm.snapshot"));
	assert_int_equal(parse("PUT", "/api/v1/vm.add-disk", "{}", &rq), -1);
	assert_int_equal(rq.status, 500);
}

static void expect_create_fails(const char *body, const char *needle)
{
	struct api_request rq;

	assert_int_equal(parse("PUT", "/api/v1/vm.create", body, &rq), -1);
	assert_int_equal(rq.status, 400);
	if (!strstr(rq.msg, needle))
		fail_msg("'%s' does not name '%s'", rq.msg, needle);
	assert_null(rq.body);
}

static void test_create_bodies(void **state)
{
	struct api_request rq;

	(void)state;
	assert_int_equal(parse("PUT", "/api/v1/vm.create", VMCONFIG, &rq), 0);
	assert_int_equal(rq.op, API_VM_CREATE);
	assert_non_null(rq.body);
	api_request_clear(&rq);
	expect_create_fails(NULL, "VmConfig");
	expect_create_fails("{\"payload\":", "bad JSON");
	expect_create_fails("[1,2]", "object");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"payload\":{}}", "bad JSON"); /* duplicate key */
	expect_create_fails("{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1}}", "payload: required");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"colour\":1}", "VmConfig.colour: unknown field");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\",\"igvm\":\"/f\"}}", "payload.igvm: not supported");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\",\"firmware\":\"/f\"},\"platform\":{\"tdx\":true}}",
			    "payload.firmware: firmware boot is for the kvm platform");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"balloon\":{\"size\":1}}", "balloon: not supported");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"memory\":{\"size\":1073741824,\"shared\":true}}",
			    "memory.shared: only false");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":4}}", "hotplug");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{\"boot_vcpus\":0,\"max_vcpus\":0}}",
			    "cpus.boot_vcpus");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"memory\":{\"size\":\"1G\"}}", "memory.size");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"console\":{\"mode\":\"Pty\"}}", "console.mode: Pty");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"vsock\":{\"cid\":2,\"socket\":\"/s\"}}", "vsock.cid");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"net\":[{\"ip\":\"10.0.0.1\"}]}", "net[0].tap");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"net\":[{\"tap\":\"t\",\"mac\":\"01:00:00:00:00:01\"}]}",
			    "multicast");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"platform\":{\"sev_snp\":true,\"tdx\":true}}", "together");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\"},\"disks\":[{\"path\":\"/d\",\"image_type\":\"Qcow2\"}]}",
			    "raw");
	expect_create_fails("{\"payload\":{\"kernel\":\"/k\\u0000x\"}}", "bad JSON");
	/* defaults and nulls are accepted, as Cloud Hypervisor's serialized configs carry them */
	assert_int_equal(parse("PUT", "/api/v1/vm.create",
			       "{\"payload\":{\"kernel\":\"/k\",\"firmware\":null},\"iommu\":false,\"fs\":[],"
			       "\"memory\":{\"size\":536870912,\"thp\":true,\"hugepages\":false}}",
			       &rq),
			 0);
	api_request_clear(&rq);
	/* too large: 413 before any parsing */
	char *big = malloc(API_BODY_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', API_BODY_MAX + 1);
	big[API_BODY_MAX + 1] = 0;
	assert_int_equal(parse("PUT", "/api/v1/vm.create", big, &rq), -1);
	assert_int_equal(rq.status, 413);
	free(big);
}

static void test_vmconfig_apply(void **state)
{
	struct vm_config c = { .platform = "kvm", .mem = 512ull << 20, .vcpus = 1 }, back;
	json_t *j = json_loads(VMCONFIG, 0, NULL), *k;

	(void)state;
	assert_non_null(j);
	assert_int_equal(api_vmconfig_apply(j, &c), 0);
	assert_string_equal(c.kernel, "/k");
	assert_string_equal(c.initrd, "/i");
	assert_string_equal(c.cmdline, "console=hvc0");
	assert_int_equal(c.vcpus, 2);
	assert_int_equal(c.mem, 256ull << 20);
	assert_int_equal(c.ndisks, 2);
	assert_true(c.disk[0].ro);
	assert_false(c.disk[1].ro);
	assert_true(c.rng);
	assert_true(c.console_virtio);
	assert_false(c.debug_console);
	assert_int_equal(c.vsock_cid, 7);
	assert_string_equal(c.platform, "sim-snp");
	/* and back: the VmConfig of these options gives the same options */
	k = api_vmconfig_from_run(&c);
	assert_non_null(k);
	back = (struct vm_config){ .platform = "kvm" };
	assert_int_equal(api_vmconfig_apply(k, &back), 0);
	assert_string_equal(back.kernel, "/k");
	assert_string_equal(back.initrd, "/i");
	assert_int_equal(back.vcpus, 2);
	assert_int_equal(back.mem, c.mem);
	assert_int_equal(back.ndisks, 2);
	assert_true(back.disk[0].ro);
	assert_string_equal(back.disk[1].path, "/d1");
	assert_true(back.rng && back.console_virtio && !back.debug_console);
	assert_int_equal(back.vsock_cid, 7);
	assert_string_equal(back.platform, "sim-snp");
	json_decref(k);
	/* payload.firmware: cvmm run --firmware, and back */
	json_t *fw = json_loads("{\"payload\":{\"kernel\":\"/k\",\"firmware\":\"/OVMF.fd\"}}", 0, NULL);
	c.platform = "kvm";
	assert_int_equal(api_vmconfig_apply(fw, &c), 0);
	assert_string_equal(c.firmware, "/OVMF.fd");
	k = api_vmconfig_from_run(&c);
	assert_string_equal(json_string_value(json_object_get(json_object_get(k, "payload"), "firmware")), "/OVMF.fd");
	json_decref(k);
	json_decref(fw);
	/* serial Tty and no console: the 8250 is the console */
	json_t *s = json_loads("{\"payload\":{\"kernel\":\"/k\"},\"serial\":{\"mode\":\"Tty\"},\"console\":{\"mode\":\"Off\"}}",
			       0, NULL);
	assert_int_equal(api_vmconfig_apply(s, &c), 0);
	assert_false(c.console_virtio);
	assert_int_equal(c.ndisks, 0);
	assert_null(c.initrd);
	json_decref(s);
	json_decref(j);
}

/* ---- the server ---- */

struct server {
	char dir[64], path[128];
	struct api_vmm *vmm;
	struct api_server *srv;
	pthread_t control;
	int notify_fd;
};

static void *control_main(void *arg)
{
	api_vmm_loop(arg, false, false);
	return NULL;
}

struct out {
	char buf[8192];
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct out *o = arg;
	size_t add = size * n, room = sizeof(o->buf) - 1 - o->len;

	memcpy(o->buf + o->len, p, add < room ? add : room);
	o->len += add < room ? add : room;
	o->buf[o->len] = 0;
	return add;
}

/* One request; returns the HTTP status (0: no connection), body in o. */
static long call(const char *sock, const char *method, const char *name, const char *body, size_t len, struct out *o)
{
	char url[256];
	long status = 0;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

	memset(o, 0, sizeof(*o));
	snprintf(url, sizeof(url), "http://localhost/api/v1/%s", name);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, o);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return status;
}

static long call_s(struct server *s, const char *method, const char *name, const char *body, struct out *o)
{
	return call(s->path, method, name, body, body ? strlen(body) : 0, o);
}

static int server_up(void **state)
{
	struct server *s = calloc(1, sizeof(*s));
	struct vm_config base = { .platform = "kvm", .mem = 512ull << 20, .vcpus = 1 };

	if (!s)
		return -1;
	strcpy(s->dir, "/tmp/test_api.XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/api.sock", s->dir);
	/* systemd's notification socket, as a Type=notify service has it */
	struct sockaddr_un na = { .sun_family = AF_UNIX };
	snprintf(na.sun_path, sizeof(na.sun_path), "%s/notify", s->dir);
	s->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->notify_fd < 0 || bind(s->notify_fd, (struct sockaddr *)&na, sizeof(na)))
		return -1;
	setenv("NOTIFY_SOCKET", na.sun_path, 1);
	/* the API threads run under the api role's filter, as in cvmm: a call
	 * off its list would end this test (not under ASan, whose runtime
	 * makes system calls of its own in every thread) */
#ifdef __SANITIZE_ADDRESS__
	confine_seccomp_set_mode(CONFINE_SECCOMP_OFF);
#else
	confine_seccomp_set_mode(CONFINE_SECCOMP_KILL);
#endif
	s->vmm = api_vmm_create(&base);
	if (!s->vmm || api_server_start(s->path, NULL, s->vmm, &s->srv) ||
	    pthread_create(&s->control, NULL, control_main, s->vmm))
		return -1;
	*state = s;
	return 0;
}

static int server_down(void **state)
{
	struct server *s = *state;
	struct out o;

	/* vmm.shutdown ends the control thread */
	assert_int_equal(call_s(s, "PUT", "vmm.shutdown", NULL, &o), 204);
	pthread_join(s->control, NULL);
	api_server_stop(s->srv);
	unsetenv("NOTIFY_SOCKET");
	close(s->notify_fd);
	char np[160];
	snprintf(np, sizeof(np), "%s/notify", s->dir);
	unlink(np);
	api_vmm_destroy(s->vmm);
	rmdir(s->dir);
	free(s);
	return 0;
}

static void test_server_lifecycle(void **state)
{
	struct server *s = *state;
	struct out o;
	struct stat st;

	/* the socket is the owner's only */
	assert_int_equal(stat(s->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(call_s(s, "GET", "vmm.ping", NULL, &o), 200);
	json_t *j = json_loads(o.buf, 0, NULL);
	assert_non_null(json_string_value(json_object_get(j, "version")));
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), getpid());
	json_decref(j);
	/* no VM yet */
	assert_int_equal(call_s(s, "GET", "vm.info", NULL, &o), 404);
	assert_non_null(strstr(o.buf, "not created"));
	assert_int_equal(call_s(s, "PUT", "vm.boot", NULL, &o), 404);
	assert_int_equal(call_s(s, "PUT", "vm.pause", NULL, &o), 404);
	assert_int_equal(call_s(s, "GET", "vm.attestation", NULL, &o), 404);
	/* created */
	assert_int_equal(call_s(s, "PUT", "vm.create", VMCONFIG, &o), 204);
	assert_int_equal(o.len, 0);
	assert_int_equal(call_s(s, "PUT", "vm.create", VMCONFIG, &o), 500); /* already */
	assert_int_equal(call_s(s, "GET", "vm.info", NULL, &o), 200);
	j = json_loads(o.buf, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "Created");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(j, "config"), "cpus"),
							    "boot_vcpus")),
			 2);
	json_decref(j);
	assert_int_equal(call_s(s, "PUT", "vm.pause", NULL, &o), 405); /* not booted */
	assert_int_equal(call_s(s, "PUT", "vm.resume", NULL, &o), 405);
	assert_int_equal(call_s(s, "PUT", "vm.shutdown", NULL, &o), 405);
	assert_int_equal(call_s(s, "PUT", "vm.power-button", NULL, &o), 405);
	assert_int_equal(call_s(s, "GET", "vm.counters", NULL, &o), 200);
	assert_string_equal(o.buf, "{}");
	assert_int_equal(call_s(s, "PUT", "vm.delete", NULL, &o), 204);
	assert_int_equal(call_s(s, "GET", "vm.info", NULL, &o), 404);
}

static void test_server_hostile(void **state)
{
	struct server *s = *state;
	struct out o;
	size_t big = 4u << 20;
	char *huge = malloc(big);

	assert_non_null(huge);
	memset(huge, '{', big);
	/* a body past the limit: 413 or the connection closed; never stored */
	long st = call(s->path, "PUT", "vm.create", huge, API_BODY_MAX + 1, &o);
	assert_true(st == 413 || st == 0);
	st = call(s->path, "PUT", "vm.create", huge, big, &o);
	assert_true(st == 413 || st == 0);
	free(huge);
	assert_int_equal(call_s(s, "PUT", "vm.create", "{\"payload\":{\"kernel\":", &o), 400);
	assert_non_null(strstr(o.buf, "bad JSON"));
	assert_int_equal(call_s(s, "PUT", "vm.create", "{\"payload\":{\"kernel\":\"/k\"},\"x\":1}", &o), 400);
	assert_non_null(strstr(o.buf, "unknown field"));
	assert_int_equal(call_s(s, "POST", "vm.create", VMCONFIG, &o), 400);
	assert_int_equal(call_s(s, "GET", "vm.shutdown", NULL, &o), 400);
	assert_int_equal(call_s(s, "GET", "../../etc/passwd", NULL, &o), 404);
	assert_int_equal(call_s(s, "PUT", "vm.resize", "{\"desired_vcpus\":2}", &o), 500);
	assert_non_null(strstr(o.buf, "vm.resize"));
	/* raw garbage on the socket */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, s->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	const char junk[] = "\x01\x02 NOT HTTP\r\n\r\n\xff\xfe";
	assert_true(write(fd, junk, sizeof(junk)) > 0);
	char rbuf[256];
	ssize_t n = read(fd, rbuf, sizeof(rbuf) - 1);
	assert_true(n >= 0);
	if (n > 0) {
		rbuf[n] = 0;
		assert_non_null(strstr(rbuf, " 400 "));
	}
	close(fd);
	/* and it still serves */
	assert_int_equal(call_s(s, "GET", "vmm.ping", NULL, &o), 200);
	assert_int_equal(call_s(s, "GET", "vm.info", NULL, &o), 404);
}

/* A peer of another uid: 403 (the socket made world-writable to reach the
 * SO_PEERCRED check at all). Needs root to change uid. */
static void test_server_peer(void **state)
{
	struct server *s = *state;

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(chmod(s->dir, 0755), 0);
	assert_int_equal(chmod(s->path, 0666), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct out o;
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(3);
		long st = call_s(s, "GET", "vmm.ping", NULL, &o);
		_exit(st == 403 && strstr(o.buf, "owner") ? 0 : 1);
	}
	int wst;
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	assert_true(WIFEXITED(wst));
	assert_int_equal(WEXITSTATUS(wst), 0);
	struct out o;
	assert_int_equal(call_s(s, "GET", "vmm.ping", NULL, &o), 200);
	chmod(s->path, 0600);
}

/* Type=notify: READY=1 once the socket serves, STOPPING=1 at vmm.shutdown */
static void test_server_notify(void **state)
{
	struct server *s = *state;
	char msg[64] = "";
	ssize_t n;
	struct out o;

	n = recv(s->notify_fd, msg, sizeof(msg) - 1, 0);
	assert_true(n > 0);
	msg[n] = 0;
	assert_string_equal(msg, "READY=1");
	assert_int_equal(call_s(s, "PUT", "vmm.shutdown", NULL, &o), 204);
	pthread_join(s->control, NULL);
	memset(msg, 0, sizeof(msg));
	n = recv(s->notify_fd, msg, sizeof(msg) - 1, 0);
	assert_true(n > 0);
	assert_string_equal(msg, "STOPPING=1");
	/* server_down's vmm.shutdown: a new control thread to answer it, once
	 * it says it is ready */
	assert_int_equal(pthread_create(&s->control, NULL, control_main, s->vmm), 0);
	memset(msg, 0, sizeof(msg));
	assert_true(recv(s->notify_fd, msg, sizeof(msg) - 1, 0) > 0);
	assert_string_equal(msg, "READY=1");
}

/* --api-socket-group: mode 0660, the group's; a peer in the group may
 * connect (as root: a child with another uid and that gid). */
static void test_server_group(void **state)
{
	char dir[] = "/tmp/test_api_group.XXXXXX", path[64];
	struct api_vmm *a;
	struct api_server *srv;
	struct stat st;
	struct vm_config base = { .platform = "kvm", .mem = 512ull << 20, .vcpus = 1 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/api.sock", dir);
	assert_non_null(a = api_vmm_create(&base));
	assert_int_equal(api_server_start(path, "no-such-group-here", a, &srv), -EINVAL);
	assert_int_equal(api_server_start(path, "65534", a, &srv), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, 65534);
	if (geteuid() == 0) {
		assert_int_equal(chmod(dir, 0755), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct out o;
			if (setresgid(65534, 65534, 65534) || setresuid(65533, 65533, 65533))
				_exit(3);
			_exit(call(path, "GET", "vmm.ping", NULL, 0, &o) == 200 ? 0 : 1);
		}
		int wst;
		assert_int_equal(waitpid(pid, &wst, 0), pid);
		assert_true(WIFEXITED(wst));
		assert_int_equal(WEXITSTATUS(wst), 0);
	}
	api_server_stop(srv);
	assert_int_equal(access(path, F_OK), -1); /* removed */
	api_vmm_destroy(a);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_create_bodies),
		cmocka_unit_test(test_vmconfig_apply),
		cmocka_unit_test_setup_teardown(test_server_lifecycle, server_up, server_down),
		cmocka_unit_test_setup_teardown(test_server_hostile, server_up, server_down),
		cmocka_unit_test_setup_teardown(test_server_peer, server_up, server_down),
		cmocka_unit_test_setup_teardown(test_server_notify, server_up, server_down),
		cmocka_unit_test(test_server_group),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
