/* test_backend_snp.c - the SEV-SNP KVM backend (sev/backend_snp.c) driven
 * against the recording ioctl stand-in (vmm/ioctl_rec.c), on the fixture
 * AmdSev OVMF with the fixture kernel, initrd and a command line, 2 vCPUs.
 *
 * Expectations, by hand from the kernel's documentation
 * (Documentation/virt/kvm/x86/amd-memory-encryption.rst, api.rst):
 *  - KVM_CREATE_VM with type KVM_X86_SNP_VM = 4;
 *  - KVM_SEV_INIT2 before anything else on the VM, vmsa_features = the
 *    guest's SEV_FEATURES without SNPActive (KVM sets that bit for an SNP
 *    VM), ghcb_version 2;
 *  - guest memory as guest_memfd: KVM_CREATE_GUEST_MEMFD, then
 *    KVM_SET_USER_MEMORY_REGION2 with flags KVM_MEM_GUEST_MEMFD (4), then
 *    KVM_SET_MEMORY_ATTRIBUTES with KVM_MEMORY_ATTRIBUTE_PRIVATE (1 << 3);
 *  - KVM_SEV_SNP_LAUNCH_START {policy} before any KVM_SEV_SNP_LAUNCH_UPDATE;
 *  - KVM_SEV_SNP_LAUNCH_UPDATE page types: NORMAL 1, ZERO 3, UNMEASURED 4,
 *    SECRETS 5, CPUID 6;
 *  - vCPUs created and their registers set before KVM_SEV_SNP_LAUNCH_FINISH,
 *    which measures the VMSAs KVM builds from them;
 *  - the digest: SNP ABI SNP_LAUNCH_UPDATE PAGE_INFO chain, folded here
 *    from the recorded lines with OpenSSL, independently of sev/digest.c. */
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
#include <openssl/ec.h>
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

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->m.mode = SEV_MODE_SNP;
	f->m.vcpus = 2;
	f->m.guest_features = 0x1;
	f->m.vmm = SEV_VMM_QEMU;
	f->m.firmware = FIX "firmware/OVMF.amdsev-2026.08+ds-2.fd";
	f->m.kernel = FIX "boot/vmlinuz-6.1.0-56-cloud-amd64";
	f->m.initrd = FIX "boot/initrd-fixture.cpio.gz";
	f->m.append = "console=ttyS0";
	assert_int_equal(sev_vcpu_type_sig("EPYC-v4", &f->m.vcpu_sig), 0);
	f->m.has_vcpu_sig = true;
	assert_int_equal(sev_measure_load(&f->m), 0);
	assert_int_equal(sev_measure_compute(&f->m), 0);
	snprintf(f->path, sizeof(f->path), "/tmp/test_backend_snp.%d.jsonl", (int)getpid());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sev_measure_release(&f->m);
	unlink(f->path);
	free(f);
	return 0;
}

static struct snp_launch_req req_of(struct fixture *f)
{
	struct snp_launch_req q = { .plan = &f->m.plan, .mem = 1ull << 30, .vcpus = 2, .guest_features = 0x1,
				    .policy = 0x30000 };

	memset(q.host_data, 0xab, sizeof(q.host_data));
	return q;
}

/* Run the backend into f->path; returns its result, *calls the ioctls. */
static int run(struct fixture *f, unsigned fail_nth, int err, uint64_t fw, unsigned *calls, unsigned *open_fds)
{
	struct snp_launch_req q = req_of(f);
	struct cc_rec *rec = NULL;
	struct snp_vm *vm = NULL;
	int rc;

	assert_int_equal(cc_rec_create(f->path, &rec), 0);
	cc_rec_fail(rec, fail_nth, err, fw);
	err_clear();
	rc = snp_backend_launch(cc_rec_io(rec), &q, &vm);
	snp_backend_release(vm);
	if (calls)
		*calls = cc_rec_calls(rec);
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
		json_error_t e;
		json_t *o = json_loads(buf, 0, &e);

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

static void hex_bytes(const char *h, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(h), 2 * n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sscanf(h + 2 * i, "%2hhx", &out[i]), 1);
}

/* PAGE_INFO (SNP ABI, SNP_LAUNCH_UPDATE): DIGEST_CUR[48] CONTENTS[48]
 * LENGTH u16 = 0x70, PAGE_TYPE u8, IMI u8, VMPL3/2/1 perms u8 x3, reserved
 * u8, GPA u64 little-endian; CONTENTS is the page's SHA-384 for NORMAL (1)
 * and VMSA (2) pages, zero otherwise. */
static void fold(uint8_t cur[48], uint64_t gpa, unsigned type, const uint8_t sha[48])
{
	uint8_t info[0x70] = {0};
	unsigned len = 48;

	memcpy(info, cur, 48);
	if (type == 1 || type == 2)
		memcpy(info + 48, sha, 48);
	info[96] = 0x70;
	info[98] = (uint8_t)type;
	for (int i = 0; i < 8; i++)
		info[104 + i] = (uint8_t)(gpa >> (8 * i));
	assert_true(EVP_Digest(info, sizeof(info), cur, &len, EVP_sha384(), NULL));
}

static void test_sequence(void **state)
{
	struct fixture *f = *state;
	unsigned calls, fds;
	size_t n, pages = 0, updates = 0;
	json_t **l;

	assert_int_equal(run(f, 0, 0, 0, &calls, &fds), 0);
	assert_int_equal(fds, 0);
	l = read_lines(f->path, &n);
	for (size_t i = 0; i < f->m.plan.n; i++)
		if (f->m.plan.steps[i].kind != PLAN_VMSA)
			pages += (f->m.plan.steps[i].len + 4095) / 4096;
	/* the exact order, LAUNCH_UPDATE lines (one per page) collapsed */
	static const char *const want[] = {
		"KVM_CHECK_EXTENSION", "KVM_GET_SUPPORTED_CPUID", "KVM_CREATE_VM", "KVM_SEV_INIT2",
		"KVM_CREATE_GUEST_MEMFD", "KVM_SET_USER_MEMORY_REGION2", "KVM_SET_MEMORY_ATTRIBUTES", /* low RAM */
		"KVM_CREATE_GUEST_MEMFD", "KVM_SET_USER_MEMORY_REGION2", "KVM_SET_MEMORY_ATTRIBUTES", /* firmware */
		"KVM_SEV_SNP_LAUNCH_START", "KVM_SEV_SNP_LAUNCH_UPDATE",
		"KVM_CREATE_VCPU", "KVM_SET_SREGS", "KVM_SET_REGS", "KVM_SET_FPU", "KVM_SET_MSRS",
		"KVM_CREATE_VCPU", "KVM_SET_SREGS", "KVM_SET_REGS", "KVM_SET_FPU", "KVM_SET_MSRS",
		"KVM_SEV_SNP_LAUNCH_FINISH",
	};
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		const char *nm = name_of(l[i]);

		if (!strcmp(nm, "KVM_SEV_SNP_LAUNCH_UPDATE")) {
			updates++;
			if (i && !strcmp(name_of(l[i - 1]), nm))
				continue;
		}
		assert_true(w < ARRAY_SIZE(want));
		assert_string_equal(nm, want[w]);
		w++;
	}
	assert_int_equal(w, ARRAY_SIZE(want));
	assert_int_equal(updates, pages);
	/* one line per ioctl: the per-page lines count as the calls they split */
	assert_true(calls <= n);

	assert_int_equal(json_integer_value(json_object_get(l[2], "type")), 4);           /* KVM_X86_SNP_VM */
	assert_string_equal(str(l[3], "vmsa_features"), "0x0");
	assert_int_equal(json_integer_value(json_object_get(l[3], "ghcb_version")), 2);
	assert_int_equal(json_integer_value(json_object_get(l[5], "flags")), 4);          /* KVM_MEM_GUEST_MEMFD */
	assert_string_equal(str(l[5], "memory_size"), "0x40000000");
	assert_string_equal(str(l[6], "attributes"), "0x8");                              /* PRIVATE */
	assert_string_equal(str(l[8], "guest_phys_addr"), "0xffc00000");                  /* 4 MiB OVMF below 4 GiB */
	assert_string_equal(str(l[10], "policy"), "0x30000");
	json_t *fin = l[n - 1];
	assert_string_equal(str(fin, "host_data"),
			    "abababababababababababababababababababababababababababababababab");
	assert_int_equal(json_integer_value(json_object_get(fin, "id_block_en")), 0);

	/* every plan step arrives with its page type, page by page, in order */
	size_t li = 11;
	for (size_t i = 0; i < f->m.plan.n; i++) {
		const struct plan_step *s = &f->m.plan.steps[i];
		int type = s->kind == PLAN_NORMAL || s->kind == PLAN_KERNEL_HASHES ? 1 : s->kind == PLAN_ZERO ? 3
			 : s->kind == PLAN_UNMEASURED ? 4 : s->kind == PLAN_SECRETS ? 5 : s->kind == PLAN_CPUID ? 6 : 0;

		if (s->kind == PLAN_VMSA)
			continue;
		for (uint64_t p = 0; p < (s->len + 4095) / 4096; p++, li++) {
			char gpa[24];

			snprintf(gpa, sizeof(gpa), "0x%llx", (unsigned long long)(s->gpa + p * 4096));
			assert_string_equal(str(l[li], "gpa"), gpa);
			assert_int_equal(json_integer_value(json_object_get(l[li], "page_type")), type);
		}
	}
	free_lines(l, n);
}

/* The pages the backend passed, folded here, give cvmm measure's digest;
 * KVM's VMSAs (built by the stand-in from the registers the backend set)
 * are the plan's VMSA pages byte for byte. */
static void test_fold_equals_measure(void **state)
{
	struct fixture *f = *state;
	uint8_t cur[48] = {0}, sha[48];
	size_t n, nvmsa = 0;
	json_t **l;

	assert_int_equal(run(f, 0, 0, 0, NULL, NULL), 0);
	l = read_lines(f->path, &n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(name_of(l[i]), "KVM_SEV_SNP_LAUNCH_UPDATE"))
			continue;
		hex_bytes(str(l[i], "sha384"), sha, 48);
		fold(cur, strtoull(str(l[i], "gpa"), NULL, 16),
		     (unsigned)json_integer_value(json_object_get(l[i], "page_type")), sha);
	}
	json_t *v = json_object_get(l[n - 1], "vmsas");
	assert_int_equal(json_array_size(v), 2);
	for (size_t i = 0; i < f->m.plan.n; i++) {
		const struct plan_step *s = &f->m.plan.steps[i];
		uint8_t want[48];
		unsigned len = 48;

		if (s->kind != PLAN_VMSA)
			continue;
		hex_bytes(str(json_array_get(v, nvmsa), "sha384"), sha, 48);
		assert_true(EVP_Digest(s->data, 4096, want, &len, EVP_sha384(), NULL));
		assert_memory_equal(sha, want, 48);
		fold(cur, 0xFFFFFFFFF000ull, 2, sha);
		nvmsa++;
	}
	assert_int_equal(nvmsa, 2);
	assert_memory_equal(cur, f->m.digest, 48);
	free_lines(l, n);
}

/* An ioctl failing mid-launch: everything released, one line naming the
 * step and the firmware error code. */
static void test_fail_mid_launch(void **state)
{
	struct fixture *f = *state;
	unsigned total, calls, fds;

	assert_int_equal(run(f, 0, 0, 0, &total, NULL), 0);
	/* call 13: the second LAUNCH_UPDATE (after CHECK_EXTENSION,
	 * GET_SUPPORTED_CPUID, CREATE_VM, INIT2, 2 x 3 memory calls,
	 * LAUNCH_START, the firmware's update) */
	assert_int_equal(run(f, 13, EIO, 0x16, &calls, &fds), -EIO);
	assert_int_equal(calls, 13);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "KVM_SEV_SNP_LAUNCH_UPDATE failed: firmware error 0x16 (INVALID_PARAM)"));
	assert_non_null(strstr(err_msg(), "plan step 1"));
	assert_null(strchr(err_msg(), '\n'));

	assert_int_equal(run(f, 4, EINVAL, 0x1, NULL, &fds), -EINVAL);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "KVM_SEV_INIT2 failed: firmware error 0x1 (INVALID_PLATFORM_STATE)"));

	assert_int_equal(run(f, total, EIO, 0x7, NULL, &fds), -EIO);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "launch finish: KVM_SEV_SNP_LAUNCH_FINISH failed: firmware error 0x7 "
					  "(POLICY_FAILURE)"));

	/* a non-firmware ioctl: named with its step */
	assert_int_equal(run(f, 8, ENOMEM, 0, NULL, &fds), -ENOMEM);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "memory slot 1: KVM_CREATE_GUEST_MEMFD"));
}

/* The CPUID page holds KVM's supported CPUID as the SNP CPUID table; when
 * the firmware rejects it (INVALID_PARAM) and writes back corrected values,
 * the message names the entries that differ. */
static void test_cpuid_page(void **state)
{
	struct fixture *f = *state;
	unsigned call = 12, fds; /* the first LAUNCH_UPDATE is call 12 */
	size_t n;
	json_t **l;

	assert_int_equal(run(f, 0, 0, 0, NULL, NULL), 0);
	l = read_lines(f->path, &n);
	assert_string_equal(name_of(l[1]), "KVM_GET_SUPPORTED_CPUID");
	free_lines(l, n);
	for (size_t i = 0; i < f->m.plan.n && f->m.plan.steps[i].kind != PLAN_CPUID; i++)
		if (f->m.plan.steps[i].kind != PLAN_VMSA)
			call++;
	assert_int_equal(run(f, call, EIO, 0x16, NULL, &fds), -EIO);
	assert_int_equal(fds, 0);
	assert_non_null(strstr(err_msg(), "the firmware rejected the CPUID page: fn 0/0 ebx 0x68747541 -> 0x68747540"));
	assert_non_null(strstr(err_msg(), "\"CPUID\""));
}

/* An SNP VMSA without SNPActive is refused before any ioctl. */
static void test_features_need_snp_active(void **state)
{
	struct fixture *f = *state;
	struct snp_launch_req q = req_of(f);
	struct cc_rec *rec = NULL;
	struct snp_vm *vm = NULL;

	q.guest_features = 0;
	assert_int_equal(cc_rec_create(NULL, &rec), 0);
	assert_int_equal(snp_backend_launch(cc_rec_io(rec), &q, &vm), -EINVAL);
	assert_int_equal(cc_rec_calls(rec), 0);
	assert_int_equal(cc_rec_open_fds(rec), 0);
	assert_non_null(strstr(err_msg(), "SNPActive"));
	cc_rec_close(rec);
}

/* --id-block/--id-auth reach SNP_LAUNCH_FINISH (id_block_en, auth_key_en);
 * an ID block for another launch digest is refused before any ioctl. */
static void test_cli_id_block(void **state)
{
	struct fixture *f = *state;
	struct snp_id_block b = { .policy = 0x30000 };
	struct snp_id_auth *a = calloc(1, sizeof(*a));
	uint8_t block[SNP_ID_BLOCK_LEN];
	EVP_PKEY *idk = EVP_EC_gen("P-384"), *auk = EVP_EC_gen("P-384");
	char pb[96], pa[96];
	size_t n;
	json_t **l;

	assert_non_null(a);
	assert_non_null(idk);
	assert_non_null(auk);
	memcpy(b.ld, f->m.digest, SNP_DIGEST_LEN);
	snp_id_block_encode(&b, block);
	assert_int_equal(snp_id_auth_build(block, idk, auk, a), 0);
	snprintf(pb, sizeof(pb), "%s.idb", f->path);
	snprintf(pa, sizeof(pa), "%s.ida", f->path);
	assert_int_equal(file_write(pb, block, sizeof(block)), 0);
	assert_int_equal(file_write(pa, a->auth, sizeof(a->auth)), 0);
	char *argv[] = { "run", "--platform", "snp", "--firmware", (char *)f->m.firmware, "--kernel", (char *)f->m.kernel,
			 "--initrd", (char *)f->m.initrd, "--cmdline", "console=ttyS0", "--vcpus", "2", "--vcpu-type",
			 "EPYC-v4", "--mem", "1G", "--id-block", pb, "--id-auth", pa, "--author-key-en", "--dry-run",
			 f->path, NULL };
	assert_int_equal(sev_cli_run(24, argv), 0);
	l = read_lines(f->path, &n);
	assert_string_equal(name_of(l[n - 1]), "KVM_SEV_SNP_LAUNCH_FINISH");
	assert_int_equal(json_integer_value(json_object_get(l[n - 1], "id_block_en")), 1);
	assert_int_equal(json_integer_value(json_object_get(l[n - 1], "auth_key_en")), 1);
	free_lines(l, n);

	block[0] ^= 1; /* another launch */
	assert_int_equal(file_write(pb, block, sizeof(block)), 0);
	unlink(f->path);
	assert_int_equal(sev_cli_run(24, argv), 2);
	assert_non_null(strstr(err_msg(), "is not this launch's"));
	assert_int_equal(access(f->path, F_OK), -1); /* no file written */
	unlink(pb);
	unlink(pa);
	EVP_PKEY_free(idk);
	EVP_PKEY_free(auk);
	free(a);
}

/* Without --dry-run on a host without SNP: exit 2, one line naming what is missing. */
static void test_cli_refuses_without_snp(void **state)
{
	(void)state;
	char *argv[] = { "run", "--platform", "snp", "--firmware", FIX "firmware/OVMF.amdsev-2026.08+ds-2.fd",
			 "--vcpus", "2", "--vcpu-type", "EPYC-v4", NULL };

	if (!access("/dev/sev", F_OK))
		skip();
	assert_int_equal(sev_cli_run(9, argv), 2);
	assert_non_null(strstr(err_msg(), "--platform snp: "));
	assert_true(strstr(err_msg(), "missing") || strstr(err_msg(), "KVM_X86_SNP_VM"));
}

/* After SNP_LAUNCH_FINISH the guest runs (cc_run_vm; api.rst): the
 * MAP_GPA_RANGE exit is enabled (KVM_CAP_EXIT_HYPERCALL 201, args[0] =
 * 1 << 12); vCPU 0 touches a private RAM page as shared
 * (KVM_EXIT_MEMORY_FAULT, flags 0 -> attributes 0, the guest_memfd range
 * punched with mode FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE = 3), asks for
 * it back private with MAP_GPA_RANGE (attributes bit 4 -> 0x8, the shared
 * backing MADV_DONTNEED = 4), then sends a GHCB termination request
 * (KVM_SYSTEM_EVENT_SEV_TERM 6): exit 4 naming the reason. */
struct snp_script {
	int vcpu0;
	unsigned step;
};

static int snp_on_run(void *ctx, int fd, struct kvm_run *run)
{
	struct snp_script *s = ctx;

	if (fd != s->vcpu0) {
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	memset(run, 0, sizeof(*run));
	switch (s->step++) {
	case 0:
		run->exit_reason = KVM_EXIT_MEMORY_FAULT;
		run->memory_fault.gpa = 0x200000;
		run->memory_fault.size = 0x1000;
		return -EFAULT;
	case 1:
		run->exit_reason = KVM_EXIT_HYPERCALL;
		run->hypercall.nr = KVM_HC_MAP_GPA_RANGE;
		run->hypercall.args[0] = 0x200000;
		run->hypercall.args[1] = 1;
		run->hypercall.args[2] = KVM_MAP_GPA_RANGE_ENCRYPTED;
		return 0;
	default:
		run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
		run->system_event.type = KVM_SYSTEM_EVENT_SEV_TERM;
		run->system_event.ndata = 1;
		run->system_event.data[0] = 0x1003;
		return 0;
	}
}

static void test_run_after_launch(void **state)
{
	struct fixture *f = *state;
	struct snp_launch_req q = req_of(f);
	struct cc_rec *rec = NULL;
	struct snp_vm *vm = NULL;
	struct cc_vm_view view;
	struct cc_mem mem;
	struct cc_runner r;
	struct snp_script sc = { 0 };
	size_t n, k;
	json_t **l;

	assert_int_equal(cc_rec_create(f->path, &rec), 0);
	assert_int_equal(snp_backend_launch(cc_rec_io(rec), &q, &vm), 0);
	snp_backend_view(vm, &view);
	assert_true(view.private_mem);
	sc.vcpu0 = view.vcpu_fd[0];
	cc_rec_on_run(rec, snp_on_run, &sc);
	cc_mem_init(&mem, view.io, view.vm_fd, view.slot, view.nslot, true);
	cc_runner_init(&r, &mem);
	assert_int_equal(cc_run_vm(&view, &r), 4);
	assert_string_equal(r.why, "vCPU 0: the guest asked to terminate (GHCB termination request, reason 0x1003)");
	assert_int_equal(mem.to_shared, 1);
	assert_int_equal(mem.to_private, 1);
	assert_int_equal(mem.release_errors, 0);
	cc_mem_destroy(&mem);
	snp_backend_release(vm);
	assert_int_equal(cc_rec_open_fds(rec), 0);
	assert_int_equal(cc_rec_close(rec), 0);
	l = read_lines(f->path, &n);
	for (k = 0; k < n && strcmp(name_of(l[k]), "KVM_SEV_SNP_LAUNCH_FINISH"); k++)
		;
	assert_true(k + 1 < n);
	assert_string_equal(name_of(l[k + 1]), "KVM_ENABLE_CAP");
	assert_int_equal(json_integer_value(json_object_get(l[k + 1], "cap")), 201);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(l[k + 1], "args"), 0)), 4096);
	/* then, whatever the threads' interleaving, these in this order */
	static const char *const want[][3] = {
		{ "KVM_SET_MEMORY_ATTRIBUTES", "attributes", "0x0" },
		{ "fallocate", "offset", "0x200000" },
		{ "KVM_SET_MEMORY_ATTRIBUTES", "attributes", "0x8" },
		{ "madvise", "len", "0x1000" },
	};
	size_t w = 0;
	for (size_t i = k + 2; i < n && w < ARRAY_SIZE(want); i++) {
		const char *nm = json_object_get(l[i], "syscall") ? str(l[i], "syscall") : name_of(l[i]);

		if (!strcmp(nm, "KVM_RUN") || !strcmp(nm, "KVM_GET_VCPU_MMAP_SIZE"))
			continue;
		assert_string_equal(nm, want[w][0]);
		assert_string_equal(str(l[i], want[w][1]), want[w][2]);
		if (!strcmp(nm, "fallocate"))
			assert_int_equal(json_integer_value(json_object_get(l[i], "mode")), 3);
		w++;
	}
	assert_int_equal(w, ARRAY_SIZE(want));
	free_lines(l, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fold_equals_measure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_mid_launch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpuid_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_id_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_after_launch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_need_snp_active, setup, teardown),
		cmocka_unit_test(test_cli_refuses_without_snp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
