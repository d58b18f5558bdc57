/* Unit tests: cvmm's own KVM, SEV and TDX ioctl definitions (vmm/kvm_uapi.h,
 * sev/sev_uapi.h, tdx/tdx_uapi.h) against the Linux 7.2.13 uAPI headers.
 * Both sides expand the same fact list (tests/uapi_facts.h): this file over
 * cvmm's headers, tests/uapi_ref.c over the copies in tests/fixtures/uapi/.
 * Every struct size, field offset and size, bit-field position and constant
 * (ioctl numbers included) must agree; a difference is reported by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/kvm_uapi.h"
#include "sev/sev_uapi.h"
#include "tdx/tdx_uapi.h"
#include "tests/uapi_table.h"

#define UAPI_THEIRS_OURS(theirs, ours) ours

static void uapi_our_table(struct uapi_table *t)
{
	t->n = 0;
	t->overflow = 0;
#include "tests/uapi_facts.h"
}

static struct uapi_table ours, ref, mutant;

/* Compare the facts of one section; print each difference with its name
 * (unless quiet: the negative tests expect differences); return how many
 * differ. *first names the first differing fact. */
static size_t uapi_diff(const struct uapi_table *a, const struct uapi_table *b, const char *section,
			const char **first, bool quiet)
{
	size_t bad = 0;
	*first = NULL;
	if (a->n != b->n) {
		if (!quiet)
			print_error("cvmm lists %zu facts, the reference side %zu\n", a->n, b->n);
		return 1;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct uapi_fact *x = &a->f[i], *y = &b->f[i];
		if (strcmp(x->section, section))
			continue;
		if (strcmp(x->name, y->name) || strcmp(x->what, y->what)) {
			if (!quiet)
				print_error("fact %zu: cvmm has %s (%s), the reference %s (%s)\n", i, x->name,
					    x->what, y->name, y->what);
			bad++;
		} else if (x->value != y->value) {
			if (!quiet)
				print_error("%s: %s is %llu (0x%llx) in cvmm, %llu (0x%llx) in Linux 7.2.13\n",
					    x->name, x->what, (unsigned long long)x->value,
					    (unsigned long long)x->value, (unsigned long long)y->value,
					    (unsigned long long)y->value);
			bad++;
		} else {
			continue;
		}
		if (!*first)
			*first = x->name;
	}
	return bad;
}

static struct uapi_fact *uapi_find(struct uapi_table *t, const char *name, const char *what)
{
	struct uapi_fact *found = NULL;
	for (size_t i = 0; i < t->n && !found; i++)
		if (!strcmp(t->f[i].name, name) && !strcmp(t->f[i].what, what))
			found = &t->f[i];
	if (!found)
		print_error("no fact %s (%s) in the list\n", name, what);
	assert_non_null(found);
	return found;
}

static int setup(void **state)
{
	(void)state;
	uapi_our_table(&ours);
	uapi_ref_table(&ref);
	return 0;
}

static void test_tables_complete(void **state)
{
	(void)state;
	assert_false(ours.overflow);
	assert_false(ref.overflow);
	assert_int_equal(ours.n, ref.n);
	size_t kvm = 0, sev = 0, tdx = 0;
	for (size_t i = 0; i < ours.n; i++) {
		assert_string_equal(ours.f[i].name, ref.f[i].name);
		assert_string_equal(ours.f[i].what, ref.f[i].what);
		kvm += !strcmp(ours.f[i].section, "kvm");
		sev += !strcmp(ours.f[i].section, "sev");
		tdx += !strcmp(ours.f[i].section, "tdx");
	}
	/* every header contributes; the list is not silently truncated */
	assert_true(kvm > 400);
	assert_true(sev > 150);
	assert_true(tdx > 40);
	assert_int_equal(kvm + sev + tdx, ours.n);
}

static void test_kvm_matches_linux(void **state)
{
	(void)state;
	const char *first;
	assert_int_equal(uapi_diff(&ours, &ref, "kvm", &first, false), 0);
	/* spot checks that the reference side really is the 7.2 header */
	assert_int_equal(uapi_find(&ref, "struct kvm_run", "size")->value, 2352);
	assert_int_equal(uapi_find(&ref, "struct kvm_userspace_memory_region2", "size")->value, 160);
}

static void test_sev_matches_linux(void **state)
{
	(void)state;
	const char *first;
	assert_int_equal(uapi_diff(&ours, &ref, "sev", &first, false), 0);
	assert_int_equal(uapi_find(&ref, "struct kvm_sev_snp_launch_finish", "size")->value, 88);
}

static void test_tdx_matches_linux(void **state)
{
	(void)state;
	const char *first;
	assert_int_equal(uapi_diff(&ours, &ref, "tdx", &first, false), 0);
	/* TD_PARAMS before the CPUID values: 256 bytes (asm/kvm.h comment) */
	assert_int_equal(uapi_find(&ref, "struct kvm_tdx_init_vm.cpuid", "offset")->value, 256);
}

/* The comparison must catch a moved field and name it: swap two fields of
 * kvm_sev_cmd (same size, so only the offsets give it away). */
struct moved_kvm_sev_cmd {
	__u32 id;
	__u32 error; /* swapped with pad0 */
	__u64 data;
	__u32 pad0;
	__u32 sev_fd;
};

static void test_moved_field_is_reported(void **state)
{
	(void)state;
	mutant = ours;
	uapi_find(&mutant, "struct kvm_sev_cmd.pad0", "offset")->value = offsetof(struct moved_kvm_sev_cmd, pad0);
	uapi_find(&mutant, "struct kvm_sev_cmd.error", "offset")->value = offsetof(struct moved_kvm_sev_cmd, error);
	assert_int_equal(sizeof(struct moved_kvm_sev_cmd), uapi_find(&ref, "struct kvm_sev_cmd", "size")->value);
	const char *first;
	assert_int_equal(uapi_diff(&mutant, &ref, "sev", &first, true), 2);
	assert_non_null(first);
	assert_string_equal(first, "struct kvm_sev_cmd.pad0");
	/* other sections are untouched */
	assert_int_equal(uapi_diff(&mutant, &ref, "kvm", &first, false), 0);
}

/* ...and a wrong ioctl number: the classic slip of sizing KVM_SET_MSRS by
 * a larger wrapper changes the encoded size. */
static void test_wrong_ioctl_number_is_reported(void **state)
{
	(void)state;
	mutant = ours;
	uapi_find(&mutant, "KVM_SET_MSRS", "value")->value = _IOW(KVMIO, 0x89, struct kvm_msrs_fixed);
	const char *first;
	assert_int_equal(uapi_diff(&mutant, &ref, "kvm", &first, true), 1);
	assert_string_equal(first, "KVM_SET_MSRS");
}

/* The fixed-size MSR list is struct kvm_msrs followed by its entries, so
 * it can be passed where KVM_GET_MSRS/KVM_SET_MSRS expect struct kvm_msrs. */
static void test_msrs_fixed_wrapper(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct kvm_msrs_fixed),
			 sizeof(struct kvm_msrs) + KVM_MSRS_FIXED_MAX * sizeof(struct kvm_msr_entry));
	assert_int_equal(offsetof(struct kvm_msrs_fixed, entries), offsetof(struct kvm_msrs, entries));
	assert_int_equal(_IOC_SIZE(KVM_SET_MSRS), sizeof(struct kvm_msrs));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_complete),
		cmocka_unit_test(test_kvm_matches_linux),
		cmocka_unit_test(test_sev_matches_linux),
		cmocka_unit_test(test_tdx_matches_linux),
		cmocka_unit_test(test_moved_field_is_reported),
		cmocka_unit_test(test_wrong_ioctl_number_is_reported),
		cmocka_unit_test(test_msrs_fixed_wrapper),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
