/* Unit tests: gm_ptr bounds (wrap-around, the 32-bit hole, end of RAM). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/vmm_core.h"

static void test_small_ram(void **state)
{
	struct guest_mem m;
	(void)state;
	assert_int_equal(gm_alloc(&m, 64ull << 20), 0);
	assert_int_equal(m.low_size, 64ull << 20);
	assert_ptr_equal(gm_ptr(&m, 0, 1), m.host);
	assert_ptr_equal(gm_ptr(&m, 0x1000, 0x1000), m.host + 0x1000);
	/* the last byte, and one past the end */
	assert_non_null(gm_ptr(&m, (64ull << 20) - 1, 1));
	assert_null(gm_ptr(&m, (64ull << 20) - 1, 2));
	assert_null(gm_ptr(&m, 64ull << 20, 1));
	/* whole RAM yes, one more no; zero length at the end is allowed */
	assert_non_null(gm_ptr(&m, 0, 64ull << 20));
	assert_null(gm_ptr(&m, 0, (64ull << 20) + 1));
	/* wrap-around: huge lengths and addresses */
	assert_null(gm_ptr(&m, 0x1000, UINT64_MAX));
	assert_null(gm_ptr(&m, UINT64_MAX, 2));
	assert_null(gm_ptr(&m, UINT64_MAX - 0xfff, 0x2000));
	/* nothing above 4 GiB with this much RAM */
	assert_null(gm_ptr(&m, 1ull << 32, 1));
	gm_free(&m);
	assert_null(gm_ptr(&m, 0, 1));
}

static void test_hole(void **state)
{
	struct guest_mem m;
	(void)state;
	/* 4 GiB of RAM (virtual, MAP_NORESERVE): 3 GiB low, 1 GiB above 4 GiB. */
	assert_int_equal(gm_alloc(&m, 4ull << 30), 0);
	assert_int_equal(m.low_size, VM_MMIO_HOLE_START);
	assert_non_null(gm_ptr(&m, VM_MMIO_HOLE_START - 8, 8));
	/* crossing into the hole, inside the hole, at the IOAPIC */
	assert_null(gm_ptr(&m, VM_MMIO_HOLE_START - 8, 9));
	assert_null(gm_ptr(&m, VM_MMIO_HOLE_START, 1));
	assert_null(gm_ptr(&m, 0xfec00000, 4));
	assert_null(gm_ptr(&m, (1ull << 32) - 1, 1));
	/* high RAM maps right after low RAM in the host mapping */
	assert_ptr_equal(gm_ptr(&m, 1ull << 32, 1), m.host + VM_MMIO_HOLE_START);
	assert_non_null(gm_ptr(&m, (1ull << 32) + (1ull << 30) - 4096, 4096));
	assert_null(gm_ptr(&m, (1ull << 32) + (1ull << 30) - 4096, 4097));
	assert_null(gm_ptr(&m, (1ull << 32) + (1ull << 30), 1));
	/* a range starting low may not run over the hole into high RAM */
	assert_null(gm_ptr(&m, 0, (4ull << 30) + 1));
	gm_free(&m);
}

static void test_alloc_limits(void **state)
{
	struct guest_mem m;
	(void)state;
	assert_int_equal(gm_alloc(&m, 1 << 20), -EINVAL);
	assert_int_equal(gm_alloc(&m, (64ull << 20) + 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ram),
		cmocka_unit_test(test_hole),
		cmocka_unit_test(test_alloc_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
