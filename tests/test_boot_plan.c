/* test_boot_plan.c - the direct-boot launch plan (vmm/boot_plan.c): the
 * pages `cvmm run` writes are exactly the plan's pages, the plan is
 * deterministic, and `cvmm measure --platform sim-snp` folds the same plan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/vmm.h"
#include "vmm/vmm_core.h"

#define KERNEL "tests/fixtures/measure/boot/vmlinuz-6.1.0-56-cloud-amd64"
#define INITRD "tests/fixtures/measure/boot/initrd-fixture.cpio.gz"
#define MEM (256ull << 20)

static uint8_t *kernel, *initrd;
static size_t klen, ilen;

static int setup(void **state)
{
	(void)state;
	if (file_read(KERNEL, 64u << 20, &kernel, &klen) || file_read(INITRD, 64u << 20, &initrd, &ilen))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(kernel);
	free(initrd);
	return 0;
}

static struct boot_inputs inputs(bool snp, const char *cmdline, unsigned vcpus)
{
	return (struct boot_inputs){ .kernel = kernel, .kernel_len = klen, .kernel_path = KERNEL,
				     .initrd = initrd, .initrd_len = ilen, .cmdline = cmdline,
				     .vcpus = vcpus, .snp = snp, .sev_features = SIM_SNP_SEV_FEATURES };
}

/* The step covering gpa, or NULL. */
static const struct plan_step *covering(const struct launch_plan *p, uint64_t gpa)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->steps[i].kind != PLAN_VMSA && gpa >= p->steps[i].gpa && gpa - p->steps[i].gpa < p->steps[i].len)
			return &p->steps[i];
	return NULL;
}

/* Nothing outside the plan was written, every step is page aligned, in
 * gpa order, without overlap, and its bytes are the guest memory there. */
static void test_plan_is_what_was_loaded(void **state)
{
	static const uint8_t zero[4096];
	struct guest_mem m;
	struct launch_plan p;
	uint64_t entry, covered = 0;
	(void)state;

	assert_int_equal(gm_alloc(&m, MEM), 0);
	struct boot_inputs in = inputs(true, "console=ttyS0 cvmm.test=plan", 2);
	assert_int_equal(vmm_boot_plan(&m, &in, &p, &entry), 0);
	for (size_t i = 0; i < p.n; i++) {
		const struct plan_step *s = &p.steps[i];
		assert_int_equal(s->gpa % 4096, 0);
		assert_int_equal(s->len % 4096, 0);
		assert_non_null(s->data);
		if (s->kind == PLAN_VMSA)
			continue;
		assert_ptr_equal(s->data, gm_ptr(&m, s->gpa, s->len));
		if (i)
			assert_true(p.steps[i - 1].gpa + p.steps[i - 1].len <= s->gpa);
		covered += s->len;
	}
	for (uint64_t gpa = 0; gpa < MEM; gpa += 4096)
		if (!covering(&p, gpa))
			assert_memory_equal(gm_ptr(&m, gpa, 4096), zero, 4096);
	assert_true(covered > klen); /* the inflated kernel at least */

	/* the BSP VMSA is the 64-bit boot state at the kernel entry */
	const struct plan_step *last = &p.steps[p.n - 1], *bsp = &p.steps[p.n - 2];
	assert_int_equal(bsp->kind, PLAN_VMSA);
	assert_int_equal(bsp->vcpu, 0);
	assert_int_equal(last->vcpu, 1);
	struct sev_cpu_state got, want;
	sev_vmsa_decode(bsp->data, &got);
	vmm_boot_cpu_state(entry, &want);
	want.sev_features = SIM_SNP_SEV_FEATURES;
	assert_memory_equal(&got, &want, sizeof(got));
	assert_int_equal(got.rip, entry);
	assert_int_equal(got.rsi, BOOT_ZERO_PAGE_GPA);
	plan_free(&p);
	gm_free(&m);
}

/* The plain KVM plan is the same guest memory without the SNP pages. */
static void test_kvm_plan_same_pages(void **state)
{
	struct guest_mem a, b;
	struct launch_plan pa, pb;
	uint64_t ea, eb;
	size_t j = 0;
	(void)state;

	assert_int_equal(gm_alloc(&a, MEM), 0);
	assert_int_equal(gm_alloc(&b, MEM), 0);
	struct boot_inputs sa = inputs(true, "console=ttyS0", 1), sb = inputs(false, "console=ttyS0", 1);
	assert_int_equal(vmm_boot_plan(&a, &sa, &pa, &ea), 0);
	assert_int_equal(vmm_boot_plan(&b, &sb, &pb, &eb), 0);
	assert_int_equal(ea, eb);
	for (size_t i = 0; i < pa.n; i++) {
		const struct plan_step *s = &pa.steps[i];
		if (s->kind == PLAN_VMSA || s->kind == PLAN_SECRETS || s->kind == PLAN_CPUID)
			continue;
		assert_true(j < pb.n);
		assert_int_equal(pb.steps[j].gpa, s->gpa);
		assert_int_equal(pb.steps[j].len, s->len);
		assert_int_equal(pb.steps[j].kind, PLAN_NORMAL);
		assert_memory_equal(pb.steps[j].data, s->data, s->len);
		j++;
	}
	assert_int_equal(j, pb.n);
	plan_free(&pa);
	plan_free(&pb);
	gm_free(&a);
	gm_free(&b);
}

/* Deterministic, and every input changes the measurement. */
static void test_measurement_inputs(void **state)
{
	uint8_t d1[48], d2[48], d[48];
	(void)state;

	assert_int_equal(vmm_sim_snp_measure(kernel, klen, KERNEL, initrd, ilen, "console=ttyS0", 2, MEM, false, d1), 0);
	assert_int_equal(vmm_sim_snp_measure(kernel, klen, KERNEL, initrd, ilen, "console=ttyS0", 2, MEM, false, d2), 0);
	assert_memory_equal(d1, d2, 48);
	assert_int_equal(vmm_sim_snp_measure(kernel, klen, KERNEL, initrd, ilen, "console=ttyS0 x", 2, MEM, false, d), 0);
	assert_memory_not_equal(d, d1, 48);
	assert_int_equal(vmm_sim_snp_measure(kernel, klen, KERNEL, initrd, ilen, "console=ttyS0", 1, MEM, false, d), 0);
	assert_memory_not_equal(d, d1, 48);
	assert_int_equal(vmm_sim_snp_measure(kernel, klen, KERNEL, initrd, ilen, "console=ttyS0", 2, MEM * 2, false, d), 0);
	assert_memory_not_equal(d, d1, 48); /* e820 in boot_params, initrd placement */
	assert_int_equal(vmm_sim_snp_measure(kernel, klen, KERNEL, NULL, 0, "console=ttyS0", 2, MEM, false, d), 0);
	assert_memory_not_equal(d, d1, 48);
	/* one flipped initrd byte */
	initrd[ilen / 2] ^= 1;
	assert_int_equal(vmm_sim_snp_measure(kernel, klen, KERNEL, initrd, ilen, "console=ttyS0", 2, MEM, false, d), 0);
	initrd[ilen / 2] ^= 1;
	assert_memory_not_equal(d, d1, 48);
}

/* Too little memory: a clear error, not an overlapping plan. */
static void test_plan_too_small(void **state)
{
	struct guest_mem m;
	struct launch_plan p;
	uint64_t entry;
	(void)state;

	assert_int_equal(gm_alloc(&m, 32ull << 20), 0);
	struct boot_inputs in = inputs(true, "console=ttyS0", 1);
	assert_true(vmm_boot_plan(&m, &in, &p, &entry) < 0);
	assert_non_null(strstr(err_msg(), "--mem"));
	assert_null(p.steps);
	gm_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_is_what_was_loaded),
		cmocka_unit_test(test_kvm_plan_same_pages),
		cmocka_unit_test(test_measurement_inputs),
		cmocka_unit_test(test_plan_too_small),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
