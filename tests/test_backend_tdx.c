/* test_backend_tdx.c - the TDX KVM backend (tdx/backend_tdx.c) driven
 * against the recording ioctl stand-in (vmm/ioctl_rec.c) on the fixture
 * IntelTdx OVMF (TDVF), 2 vCPUs, 2 GiB.
 *
 * Expectations, by hand from Documentation/virt/kvm/x86/intel-tdx.rst and
 * api.rst: KVM_CREATE_VM type KVM_X86_TDX_VM = 5; KVM_TDX_CAPABILITIES and
 * KVM_TDX_INIT_VM on the VM fd before any vCPU; KVM_CAP_SPLIT_IRQCHIP (121)
 * enabled; KVM_TDX_INIT_VCPU on each vCPU fd with data = the TD HOB's GPA;
 * KVM_TDX_INIT_MEM_REGION on a vCPU fd, one per TDVF section, flags
 * KVM_TDX_MEASURE_MEMORY_REGION (1) where the section has MR.EXTEND;
 * KVM_TDX_FINALIZE_VM last. MRTD (TDX module base spec, "MRTD"): one
 * SHA-384 over 128-byte records, per page "MEM.PAGE.ADD"+GPA, then for
 * measured pages 16 x ("MR.EXTEND"+GPA record, 256 bytes of contents);
 * folded here from the recorded lines and the firmware file, independently
 * of tdx/mrtd.c. */
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
#include "tdx/backend_tdx.h"
#include "tdx/tdx.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"

#define FW "tests/fixtures/measure/firmware/OVMF.inteltdx.ms-2026.08+ds-2.fd"

struct fixture {
	struct fw_image fw;
	struct tdvf_metadata md;
	struct launch_plan plan;
	uint8_t mrtd[TDX_MR_SIZE];
	char path[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fw_load(FW, &f->fw), 0);
	assert_int_equal(fw_tdvf_parse(&f->fw, &f->md), 0);
	assert_int_equal(tdx_plan_build(&f->fw, &f->md, 2ull << 30, &f->plan), 0);
	assert_int_equal(tdx_mrtd(&f->plan, TDX_MRTD_SINGLE_PASS, NULL, f->mrtd), 0);
	snprintf(f->path, sizeof(f->path), "/tmp/test_backend_tdx.%d.jsonl", (int)getpid());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	plan_free(&f->plan);
	fw_free(&f->fw);
	unlink(f->path);
	free(f);
	return 0;
}

static int run(struct fixture *f, unsigned fail_nth, int err, uint64_t hw, unsigned *open_fds)
{
	struct tdx_launch_req q = { .plan = &f->plan, .fw = &f->fw, .mem = 2ull << 30, .vcpus = 2,
				    .attributes = 1ull << 28, .xfam = 0x3 };
	struct cc_rec *rec = NULL;
	struct tdx_vm *vm = NULL;
	int rc;

	memset(q.mrconfigid, 0x11, sizeof(q.mrconfigid));
	assert_int_equal(cc_rec_create(f->path, &rec), 0);
	cc_rec_fail(rec, fail_nth, err, hw);
	err_clear();
	rc = tdx_backend_launch(cc_rec_io(rec), &q, &vm);
	tdx_backend_release(vm);
	if (!rc)
		assert_memory_equal(cc_rec_tdx_mrtd(rec), f->mrtd, TDX_MR_SIZE);
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

static void free_lines(json_t **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
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

static json_int_t inum(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void test_sequence(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = {
		"KVM_CHECK_EXTENSION", "KVM_CREATE_VM", "KVM_TDX_CAPABILITIES", "KVM_GET_SUPPORTED_CPUID",
		"KVM_ENABLE_CAP", "KVM_TDX_INIT_VM",
		"KVM_CREATE_GUEST_MEMFD", "KVM_SET_USER_MEMORY_REGION2", "KVM_SET_MEMORY_ATTRIBUTES",
		"KVM_CREATE_GUEST_MEMFD", "KVM_SET_USER_MEMORY_REGION2", "KVM_SET_MEMORY_ATTRIBUTES",
		"KVM_CREATE_VCPU", "KVM_TDX_INIT_VCPU", "KVM_CREATE_VCPU", "KVM_TDX_INIT_VCPU",
	};
	unsigned fds;
	size_t n, k = ARRAY_SIZE(want), hob = 0;
	json_t **l;

	assert_int_equal(run(f, 0, 0, 0, &fds), 0);
	assert_int_equal(fds, 0);
	l = read_lines(f->path, &n);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(name_of(l[i]), want[i]);
	assert_int_equal(inum(l[1], "type"), 5);
	assert_int_equal(inum(l[4], "cap"), 121);
	assert_string_equal(str(l[5], "attributes"), "0x10000000");
	assert_string_equal(str(l[5], "xfam"), "0x3");
	/* CPUID: KVM_GET_SUPPORTED_CPUID (the stand-in's EPYC-like leaves 0,
	 * 1, 7.0, 0x8000001f) masked by the configurable bits the stand-in's
	 * TDX module lists (1: ECX bit 9; 7.0: EBX bit 3): leaf 1 ECX
	 * 0xfef83203 & 0x200, leaf 7.0 EBX 0x219c07ab & 0x8, the rest left out */
	assert_int_equal(inum(l[5], "cpuid_nent"), 2);
	char *cpuid = json_dumps(json_object_get(l[5], "cpuid"), JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(cpuid, "[{\"function\":\"0x1\",\"index\":0,\"eax\":\"0x0\",\"ebx\":\"0x0\",\"ecx\":\"0x200\","
				   "\"edx\":\"0x0\"},{\"function\":\"0x7\",\"index\":0,\"eax\":\"0x0\",\"ebx\":\"0x8\","
				   "\"ecx\":\"0x0\",\"edx\":\"0x0\"}]");
	free(cpuid);
	assert_string_equal(str(l[5], "mrconfigid"),
			    "111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111");
	for (size_t i = 0; i < f->plan.n; i++)
		if (f->plan.steps[i].kind == PLAN_TD_HOB)
			hob = f->plan.steps[i].gpa;
	char hobs[24];
	snprintf(hobs, sizeof(hobs), "0x%zx", hob);
	assert_string_equal(str(l[13], "data"), hobs);
	assert_string_equal(str(l[15], "data"), hobs);
	json_int_t vcpu0 = inum(l[13], "fd");
	for (size_t i = 0; i < f->plan.n; i++) {
		const struct plan_step *s = &f->plan.steps[i];
		char gpa[24];

		if (s->flags & PLAN_F_AUG)
			continue;
		assert_true(k < n);
		assert_string_equal(name_of(l[k]), "KVM_TDX_INIT_MEM_REGION");
		assert_int_equal(inum(l[k], "fd"), vcpu0);
		snprintf(gpa, sizeof(gpa), "0x%llx", (unsigned long long)s->gpa);
		assert_string_equal(str(l[k], "gpa"), gpa);
		assert_int_equal(inum(l[k], "nr_pages"), (s->len + 4095) / 4096);
		assert_int_equal(json_is_true(json_object_get(l[k], "measure")), !!(s->flags & PLAN_F_EXTEND));
		assert_int_equal(inum(l[k], "flags"), (s->flags & PLAN_F_EXTEND) ? 1 : 0);
		if (s->data >= f->fw.data && s->data < f->fw.data + f->fw.size)
			assert_int_equal(inum(l[k], "file_offset"), s->data - f->fw.data);
		else
			assert_null(json_object_get(l[k], "file_offset"));
		k++;
	}
	assert_int_equal(k + 1, n);
	assert_string_equal(name_of(l[k]), "KVM_TDX_FINALIZE_VM");
	free_lines(l, n);
}

static void rec128(EVP_MD_CTX *c, const char *name, uint64_t gpa)
{
	uint8_t r[128] = {0};

	memcpy(r, name, strlen(name));
	for (int i = 0; i < 8; i++)
		r[16 + i] = (uint8_t)(gpa >> (8 * i));
	assert_true(EVP_DigestUpdate(c, r, sizeof(r)));
}

/* MRTD from the recorded lines plus the firmware file read here. */
static void test_mrtd_from_lines(void **state)
{
	struct fixture *f = *state;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	FILE *img = fopen(FW, "rb");
	uint8_t out[48], page[4096];
	unsigned len = 48;
	size_t n;
	json_t **l;

	assert_int_equal(run(f, 0, 0, 0, NULL), 0);
	l = read_lines(f->path, &n);
	assert_non_null(c);
	assert_non_null(img);
	assert_true(EVP_DigestInit_ex(c, EVP_sha384(), NULL));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(name_of(l[i]), "KVM_TDX_INIT_MEM_REGION"))
			continue;
		uint64_t gpa = strtoull(str(l[i], "gpa"), NULL, 16);
		bool measure = json_is_true(json_object_get(l[i], "measure"));

		if (measure) /* this TDVF extends only sections from the image */
			assert_non_null(json_object_get(l[i], "file_offset"));
		for (json_int_t p = 0; p < inum(l[i], "nr_pages"); p++) {
			uint64_t pg = gpa + (uint64_t)p * 4096;

			rec128(c, "MEM.PAGE.ADD", pg);
			if (!measure)
				continue;
			assert_int_equal(fseek(img, (long)(inum(l[i], "file_offset") + p * 4096), SEEK_SET), 0);
			assert_int_equal(fread(page, 1, sizeof(page), img), sizeof(page));
			for (unsigned ch = 0; ch < 16; ch++) {
				rec128(c, "MR.EXTEND", pg + ch * 256);
				assert_true(EVP_DigestUpdate(c, page + ch * 256, 256));
			}
		}
	}
	assert_true(EVP_DigestFinal_ex(c, out, &len));
	assert_memory_equal(out, f->mrtd, 48);
	char hex[97];
	hex_encode(out, 48, hex);
	assert_string_equal(str(l[n - 1], "mrtd"), hex);
	EVP_MD_CTX_free(c);
	fclose(img);
	free_lines(l, n);
}

static void test_fail_mid_launch(void **state)
{
	struct fixture *f = *state;
	unsigned fds;

	/* call 17: the first KVM_TDX_INIT_MEM_REGION */
	assert_int_equal(run(f, 17, EIO, 0xc000010000000000ull, &fds), -EIO);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "KVM_TDX_INIT_MEM_REGION failed: TDX module error 0xc000010000000000"));
	assert_non_null(strstr(err_msg(), "plan step"));
	assert_null(strchr(err_msg(), '\n'));

	assert_int_equal(run(f, 6, EINVAL, 0xc000010100000000ull, &fds), -EINVAL);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "init: KVM_TDX_INIT_VM failed: TDX module error 0xc000010100000000"));

	assert_int_equal(run(f, 14, EIO, 0x1, &fds), -EIO);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "vCPU 0: KVM_TDX_INIT_VCPU failed"));
}

static void test_cli_refuses_without_tdx(void **state)
{
	(void)state;
	char *argv[] = { "run", "--platform", "tdx", "--firmware", FW, NULL };

	assert_int_equal(tdx_cli_run(5, argv), 2);
	assert_non_null(strstr(err_msg(), "--platform tdx: "));
}

/* After FINALIZE the TD runs (cc_run_vm): KVM_CAP_EXIT_HYPERCALL with the
 * MAP_GPA_RANGE bit (api.rst: args[0] = 1 << 12) is enabled, one thread per
 * vCPU issues KVM_RUN; scripted exits on vCPU 0: MapGPA makes a buffer
 * shared, GetQuote without --tdx-qgs answers QGS_UNAVAILABLE in it (GHCI:
 * status 0x8000000000000001, the TDVMCALL itself SUCCESS), then the TD
 * powers off (KVM_SYSTEM_EVENT_SHUTDOWN). vCPU 1 halts until stopped. */
struct td_script {
	int vcpu0;
	unsigned step;
	uint64_t quote_ret, map_ret;
};

static int td_on_run(void *ctx, int fd, struct kvm_run *run)
{
	struct td_script *s = ctx;

	if (fd != s->vcpu0) {
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	if (s->step == 1)
		s->map_ret = run->hypercall.ret;
	if (s->step == 2)
		s->quote_ret = run->tdx.get_quote.ret;
	memset(run, 0, sizeof(*run));
	switch (s->step++) {
	case 0:
		run->exit_reason = KVM_EXIT_HYPERCALL;
		run->hypercall.nr = KVM_HC_MAP_GPA_RANGE;
		run->hypercall.args[0] = 0x100000;
		run->hypercall.args[1] = 2;
		run->hypercall.args[2] = KVM_MAP_GPA_RANGE_DECRYPTED;
		return 0;
	case 1:
		run->exit_reason = KVM_EXIT_TDX;
		run->tdx.nr = TDVMCALL_GET_QUOTE;
		run->tdx.get_quote.ret = TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
		run->tdx.get_quote.gpa = 0x100000;
		run->tdx.get_quote.size = 0x2000;
		return 0;
	default:
		run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
		run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
		return 0;
	}
}

static void test_run_after_launch(void **state)
{
	struct fixture *f = *state;
	struct tdx_launch_req q = { .plan = &f->plan, .fw = &f->fw, .mem = 2ull << 30, .vcpus = 2,
				    .attributes = 1ull << 28, .xfam = 0x3 };
	struct cc_rec *rec = NULL;
	struct tdx_vm *vm = NULL;
	struct cc_vm_view view;
	struct cc_mem mem;
	struct cc_runner r;
	struct tdx_run_ctx t;
	struct td_script sc = { 0 };
	uint64_t status, one = 1;
	uint32_t in_len = 1024;
	size_t n;
	json_t **l;
	bool cap = false;

	assert_int_equal(cc_rec_create(f->path, &rec), 0);
	assert_int_equal(tdx_backend_launch(cc_rec_io(rec), &q, &vm), 0);
	tdx_backend_view(vm, &view);
	assert_int_equal(view.nvcpus, 2);
	uint8_t *buf = view.slot[0].host + 0x100000;
	memcpy(buf, &one, 8);
	memcpy(buf + 16, &in_len, 4);
	sc.vcpu0 = view.vcpu_fd[0];
	cc_rec_on_run(rec, td_on_run, &sc);
	cc_mem_init(&mem, view.io, view.vm_fd, view.slot, view.nslot, true);
	tdx_run_ctx_init(&t, &mem, NULL);
	cc_runner_init(&r, &mem);
	r.tdx = tdx_exit;
	r.tdx_ctx = &t;
	assert_int_equal(cc_run_vm(&view, &r), 0);
	assert_string_equal(r.why, "guest powered off");
	tdx_run_ctx_drain(&t);
	assert_int_equal(sc.map_ret, 0);
	assert_int_equal(sc.quote_ret, TDVMCALL_STATUS_SUCCESS);
	memcpy(&status, buf + 8, 8);
	assert_int_equal(status, TDX_GET_QUOTE_QGS_UNAVAILABLE);
	assert_int_equal(mem.to_shared, 2);
	cc_mem_destroy(&mem);
	tdx_backend_release(vm);
	assert_int_equal(cc_rec_open_fds(rec), 0);
	assert_int_equal(cc_rec_close(rec), 0);
	l = read_lines(f->path, &n);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(str(l[i], "ioctl"), "KVM_ENABLE_CAP") && json_integer_value(json_object_get(l[i], "cap")) == 201) {
			assert_int_equal(json_integer_value(json_array_get(json_object_get(l[i], "args"), 0)), 4096);
			assert_string_equal(str(l[i - 1], "cmd"), "KVM_TDX_FINALIZE_VM");
			cap = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		json_decref(l[i]);
	free(l);
	assert_true(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mrtd_from_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_mid_launch, setup, teardown),
		cmocka_unit_test(test_cli_refuses_without_tdx),
		cmocka_unit_test_setup_teardown(test_run_after_launch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
