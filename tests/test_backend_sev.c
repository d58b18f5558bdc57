/* test_backend_sev.c - the SEV / SEV-ES KVM backend (sev/backend_sev.c)
 * against the recording ioctl stand-in, on the fixture AmdSev OVMF with
 * the fixture kernel, initrd and command line (measured direct boot), 2 vCPUs.
 *
 * Expectations by hand from Documentation/virt/kvm/x86/amd-memory-encryption.rst:
 * KVM_CREATE_VM type KVM_X86_SEV_ES_VM = 3 (KVM_X86_SEV_VM = 2); KVM_SEV_INIT2
 * first; memory pinned with KVM_MEMORY_ENCRYPT_REG_REGION; LAUNCH_START
 * {policy} before LAUNCH_UPDATE_DATA {uaddr, len}, one per plan step; SEV-ES:
 * vCPUs with their registers, then one LAUNCH_UPDATE_VMSA; LAUNCH_MEASURE;
 * LAUNCH_FINISH. The SEV API's launch digest is SHA-256 over the bytes of
 * LAUNCH_UPDATE_DATA and LAUNCH_UPDATE_VMSA in order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/common.h"
#include "sev/backend_snp.h"
#include "sev/sev.h"
#include "sev/sev_measure.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"

#define FIX "tests/fixtures/measure/"

struct fixture {
	struct measure_req m;
	char path[64];
};

static int setup_mode(void **state, enum sev_mode mode)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->m.mode = mode;
	f->m.vcpus = 2;
	f->m.vmm = SEV_VMM_QEMU;
	f->m.firmware = FIX "firmware/OVMF.amdsev-2026.08+ds-2.fd";
	f->m.kernel = FIX "boot/vmlinuz-6.1.0-56-cloud-amd64";
	f->m.initrd = FIX "boot/initrd-fixture.cpio.gz";
	f->m.append = "console=ttyS0";
	assert_int_equal(sev_vcpu_type_sig("EPYC-v4", &f->m.vcpu_sig), 0);
	f->m.has_vcpu_sig = true;
	assert_int_equal(sev_measure_load(&f->m), 0);
	assert_int_equal(sev_measure_compute(&f->m), 0);
	snprintf(f->path, sizeof(f->path), "/tmp/test_backend_sev.%d.jsonl", (int)getpid());
	*state = f;
	return 0;
}

static int setup_es(void **state) { return setup_mode(state, SEV_MODE_SEV_ES); }
static int setup_sev(void **state) { return setup_mode(state, SEV_MODE_SEV); }

static int teardown(void **state)
{
	struct fixture *f = *state;

	sev_measure_release(&f->m);
	unlink(f->path);
	free(f);
	return 0;
}

static int run(struct fixture *f, unsigned fail_nth, int err, uint64_t fw, unsigned *open_fds)
{
	struct sev_launch_req q = { .plan = &f->m.plan, .mode = f->m.mode, .mem = 1ull << 30, .vcpus = 2,
				    .policy = f->m.mode == SEV_MODE_SEV_ES ? 0x5 : 0x1 };
	uint8_t meas[48];
	struct cc_rec *rec = NULL;
	struct sev_vm *vm = NULL;
	int rc;

	assert_int_equal(cc_rec_create(f->path, &rec), 0);
	cc_rec_fail(rec, fail_nth, err, fw);
	err_clear();
	rc = sev_backend_launch(cc_rec_io(rec), &q, meas, &vm);
	sev_backend_release(vm);
	if (!rc) {
		assert_memory_equal(cc_rec_sev_digest(rec), f->m.digest, 32);
		assert_memory_equal(meas, f->m.digest, 32); /* the stand-in's LAUNCH_MEASURE output */
	}
	if (open_fds)
		*open_fds = cc_rec_open_fds(rec);
	assert_int_equal(cc_rec_close(rec), 0);
	return rc;
}

static json_t **read_lines(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	json_t **v = NULL;
	char *buf = NULL;
	size_t cap = 0;

	assert_non_null(fp);
	*n = 0;
	while (getline(&buf, &cap, fp) > 0) {
		json_t *o = json_loads(buf, 0, NULL);

		assert_non_null(o);
		v = realloc(v, (*n + 1) * sizeof(*v));
		assert_non_null(v);
		v[(*n)++] = o;
	}
	free(buf);
	fclose(fp);
	return v;
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "";
}

static const char *name_of(json_t *o)
{
	return json_object_get(o, "cmd") ? str(o, "cmd") : str(o, "ioctl");
}

static void sha256_hex(const uint8_t *p, size_t n, char hex[65])
{
	uint8_t h[32];
	unsigned len = 32;
	static const uint8_t zero[4096];

	assert_true(EVP_Digest(p ? p : zero, n, h, &len, EVP_sha256(), NULL));
	hex_encode(h, 32, hex);
}

static void check_sequence(struct fixture *f, bool es)
{
	unsigned fds;
	size_t n, k = 0;
	json_t **l;

	assert_int_equal(run(f, 0, 0, 0, &fds), 0);
	assert_int_equal(fds, 0);
	l = read_lines(f->path, &n);
	const char *head[] = { "KVM_CHECK_EXTENSION", "KVM_CREATE_VM", "KVM_SEV_INIT2", "KVM_SET_USER_MEMORY_REGION2",
			       "KVM_MEMORY_ENCRYPT_REG_REGION", "KVM_SET_USER_MEMORY_REGION2",
			       "KVM_MEMORY_ENCRYPT_REG_REGION", "KVM_SEV_LAUNCH_START" };
	for (; k < ARRAY_SIZE(head); k++)
		assert_string_equal(name_of(l[k]), head[k]);
	assert_int_equal(json_integer_value(json_object_get(l[1], "type")), es ? 3 : 2);
	assert_int_equal(json_integer_value(json_object_get(l[3], "flags")), 0); /* no guest_memfd for SEV */
	assert_string_equal(str(l[7], "policy"), es ? "0x5" : "0x1");
	/* one LAUNCH_UPDATE_DATA per plan step, the step's bytes */
	for (size_t i = 0; i < f->m.plan.n; i++) {
		const struct plan_step *s = &f->m.plan.steps[i];
		char hex[65];

		if (s->kind == PLAN_VMSA)
			continue;
		assert_string_equal(name_of(l[k]), "KVM_SEV_LAUNCH_UPDATE_DATA");
		assert_int_equal(json_integer_value(json_object_get(l[k], "len")), s->len);
		sha256_hex(s->data, s->len, hex);
		assert_string_equal(str(l[k], "sha256"), hex);
		k++;
	}
	for (unsigned v = 0; v < 2; v++) {
		assert_string_equal(name_of(l[k++]), "KVM_CREATE_VCPU");
		if (es) {
			assert_string_equal(name_of(l[k++]), "KVM_SET_SREGS");
			assert_string_equal(name_of(l[k++]), "KVM_SET_REGS");
			assert_string_equal(name_of(l[k++]), "KVM_SET_FPU");
			assert_string_equal(name_of(l[k++]), "KVM_SET_MSRS");
		}
	}
	if (es) {
		json_t *vm = json_object_get(l[k], "vmsas");
		size_t j = 0;

		assert_string_equal(name_of(l[k]), "KVM_SEV_LAUNCH_UPDATE_VMSA");
		for (size_t i = 0; i < f->m.plan.n; i++) {
			char hex[65];

			if (f->m.plan.steps[i].kind != PLAN_VMSA)
				continue;
			sha256_hex(f->m.plan.steps[i].data, 4096, hex);
			assert_string_equal(str(json_array_get(vm, j++), "sha256"), hex);
		}
		assert_int_equal(j, 2);
		k++;
	}
	assert_string_equal(name_of(l[k]), "KVM_SEV_LAUNCH_MEASURE");
	char d[65];
	hex_encode(f->m.digest, 32, d);
	assert_string_equal(str(l[k], "launch_digest"), d);
	assert_string_equal(name_of(l[k + 1]), "KVM_SEV_LAUNCH_FINISH");
	assert_int_equal(k + 2, n);
	for (size_t i = 0; i < n; i++)
		json_decref(l[i]);
	free(l);
}

static void test_sequence_es(void **state) { check_sequence(*state, true); }
static void test_sequence_sev(void **state) { check_sequence(*state, false); }

static void test_fail_mid_launch(void **state)
{
	struct fixture *f = *state;
	unsigned fds;

	/* call 10: the second LAUNCH_UPDATE_DATA (the SEV hashes table) */
	assert_int_equal(run(f, 10, EIO, 0x4, &fds), -EIO);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "SEV-ES launch: plan step 1"));
	assert_non_null(strstr(err_msg(), "KVM_SEV_LAUNCH_UPDATE_DATA failed: firmware error 0x4"));
	assert_null(strchr(err_msg(), '\n'));
	/* call 21: LAUNCH_UPDATE_VMSA (1 CHECK_EXTENSION, 2 CREATE_VM, 3 INIT2,
	 * 4-7 memory, 8 LAUNCH_START, 9-10 UPDATE_DATA, 11-20 vCPUs) */
	assert_int_equal(run(f, 21, EIO, 0x2, &fds), -EIO);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "KVM_SEV_LAUNCH_UPDATE_VMSA failed: firmware error 0x2"));
}

/* --launch-secret: amd-memory-encryption.rst KVM_SEV_LAUNCH_SECRET
 * {hdr_uaddr, hdr_len, guest_uaddr, guest_len, trans_uaddr, trans_len},
 * issued after LAUNCH_MEASURE and before LAUNCH_FINISH (the SEV API's
 * LSECRET state); guest_uaddr is the host address of the guest's pages, in
 * the pinned region; the packet header is 52 bytes (SEV API PACKET_HEADER).
 * The owner's session goes into LAUNCH_START {dh_uaddr, dh_len,
 * session_uaddr, session_len}. Not measured: the digest is unchanged. */
static int run_secret(struct fixture *f, uint64_t gpa, unsigned fail_nth, unsigned *open_fds)
{
	static uint8_t hdr[52], secret[64], dh[0x824], session[0x70];
	struct sev_launch_req q = { .plan = &f->m.plan, .mode = f->m.mode, .mem = 1ull << 30, .vcpus = 2,
				    .policy = 0x5, .dh_cert = dh, .dh_cert_len = sizeof(dh), .session = session,
				    .session_len = sizeof(session), .secret_hdr = hdr, .secret = secret,
				    .secret_len = sizeof(secret), .secret_gpa = gpa };
	uint8_t meas[48];
	struct cc_rec *rec = NULL;
	struct sev_vm *vm = NULL;
	int rc;

	memset(hdr, 0x11, sizeof(hdr));
	memset(secret, 0x22, sizeof(secret));
	assert_int_equal(cc_rec_create(f->path, &rec), 0);
	cc_rec_fail(rec, fail_nth, EIO, 0x13);
	err_clear();
	rc = sev_backend_launch(cc_rec_io(rec), &q, meas, &vm);
	sev_backend_release(vm);
	if (!rc)
		assert_memory_equal(cc_rec_sev_digest(rec), f->m.digest, 32);
	*open_fds = cc_rec_open_fds(rec);
	assert_int_equal(cc_rec_close(rec), 0);
	return rc;
}

static void test_launch_secret(void **state)
{
	struct fixture *f = *state;
	char hdr_hex[65], sec_hex[65];
	uint8_t b[64];
	unsigned fds;
	size_t n, k;
	json_t **l;
	uint64_t slot0 = 0;

	assert_int_equal(run_secret(f, 0x810000, 0, &fds), 0);
	assert_int_equal(fds, 0);
	l = read_lines(f->path, &n);
	for (k = 0; k < n; k++) {
		if (!strcmp(name_of(l[k]), "KVM_SET_USER_MEMORY_REGION2") && !slot0)
			slot0 = strtoull(str(l[k], "userspace_addr"), NULL, 16);
		if (!strcmp(name_of(l[k]), "KVM_SEV_LAUNCH_START")) {
			assert_int_equal(json_integer_value(json_object_get(l[k], "dh_len")), 0x824);
			assert_int_equal(json_integer_value(json_object_get(l[k], "session_len")), 0x70);
		}
		if (!strcmp(name_of(l[k]), "KVM_SEV_LAUNCH_SECRET"))
			break;
	}
	assert_true(k > 0 && k + 1 < n);
	assert_string_equal(name_of(l[k - 1]), "KVM_SEV_LAUNCH_MEASURE");
	assert_string_equal(name_of(l[k + 1]), "KVM_SEV_LAUNCH_FINISH");
	assert_int_equal(k + 2, n);
	assert_int_equal(json_integer_value(json_object_get(l[k], "hdr_len")), 52);
	assert_int_equal(json_integer_value(json_object_get(l[k], "guest_len")), 64);
	assert_int_equal(json_integer_value(json_object_get(l[k], "trans_len")), 64);
	assert_int_equal(json_integer_value(json_object_get(l[k], "gpa")), 0x810000);
	assert_int_equal(strtoull(str(l[k], "guest_uaddr"), NULL, 16), slot0 + 0x810000);
	memset(b, 0x11, 52);
	sha256_hex(b, 52, hdr_hex);
	memset(b, 0x22, 64);
	sha256_hex(b, 64, sec_hex);
	assert_string_equal(str(l[k], "hdr_sha256"), hdr_hex);
	assert_string_equal(str(l[k], "trans_sha256"), sec_hex);
	for (size_t i = 0; i < n; i++)
		json_decref(l[i]);
	free(l);
	/* call 23 is LAUNCH_SECRET (22 MEASURE): the firmware refuses the packet */
	assert_int_equal(run_secret(f, 0x810000, 23, &fds), -EIO);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "SEV-ES launch: launch secret at gpa 0x810000: KVM_SEV_LAUNCH_SECRET failed: "
					  "firmware error 0x13"));
	/* a gpa that is not guest memory: refused before the firmware sees it */
	assert_int_equal(run_secret(f, 0x50000000, 0, &fds), -EINVAL);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "launch secret at gpa 0x50000000: 64 bytes there are not guest memory"));
}

/* SEV-ES after LAUNCH_FINISH: no guest_memfd, so MAP_GPA_RANGE (which a
 * Linux guest issues for its shared pages) is validated and acknowledged
 * without KVM_SET_MEMORY_ATTRIBUTES; a request outside RAM gets EINVAL
 * (api.rst KVM_CAP_EXIT_HYPERCALL: 0, EINVAL or EAGAIN);
 * the guest then powers off (exit 0). */
struct es_script {
	int vcpu0;
	unsigned step;
	uint64_t ret[2];
};

static int es_on_run(void *ctx, int fd, struct kvm_run *run)
{
	struct es_script *s = ctx;

	if (fd != s->vcpu0) {
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	if (s->step == 1 || s->step == 2)
		s->ret[s->step - 1] = run->hypercall.ret;
	memset(run, 0, sizeof(*run));
	if (s->step < 2) {
		run->exit_reason = KVM_EXIT_HYPERCALL;
		run->hypercall.nr = KVM_HC_MAP_GPA_RANGE;
		run->hypercall.args[0] = s->step ? 0x40000000 : 0x100000; /* 1 GiB of RAM: the second is past it */
		run->hypercall.args[1] = 4;
	} else {
		run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
		run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
	}
	s->step++;
	return 0;
}

static void test_run_after_launch(void **state)
{
	struct fixture *f = *state;
	struct sev_launch_req q = { .plan = &f->m.plan, .mode = f->m.mode, .mem = 1ull << 30, .vcpus = 2, .policy = 0x5 };
	uint8_t meas[48];
	struct cc_rec *rec = NULL;
	struct sev_vm *vm = NULL;
	struct cc_vm_view view;
	struct cc_mem mem;
	struct cc_runner r;
	struct es_script sc = { 0 };
	size_t n;
	json_t **l;

	assert_int_equal(cc_rec_create(f->path, &rec), 0);
	assert_int_equal(sev_backend_launch(cc_rec_io(rec), &q, meas, &vm), 0);
	sev_backend_view(vm, &view);
	assert_false(view.private_mem);
	assert_int_equal(view.slot[0].gmem_fd, -1);
	sc.vcpu0 = view.vcpu_fd[0];
	cc_rec_on_run(rec, es_on_run, &sc);
	cc_mem_init(&mem, view.io, view.vm_fd, view.slot, view.nslot, false);
	cc_runner_init(&r, &mem);
	assert_int_equal(cc_run_vm(&view, &r), 0);
	assert_int_equal(sc.ret[0], 0);
	assert_int_equal(sc.ret[1], EINVAL);
	cc_mem_destroy(&mem);
	sev_backend_release(vm);
	assert_int_equal(cc_rec_open_fds(rec), 0);
	assert_int_equal(cc_rec_close(rec), 0);
	l = read_lines(f->path, &n);
	for (size_t i = 0; i < n; i++) {
		assert_string_not_equal(name_of(l[i]), "KVM_SET_MEMORY_ATTRIBUTES");
		json_decref(l[i]);
	}
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequence_es, setup_es, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_sev, setup_sev, teardown),
		cmocka_unit_test_setup_teardown(test_fail_mid_launch, setup_es, teardown),
		cmocka_unit_test_setup_teardown(test_launch_secret, setup_es, teardown),
		cmocka_unit_test_setup_teardown(test_run_after_launch, setup_es, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
