/* Unit tests: gm_ptr bounds (wrap-around, the 32-bit hole, end of RAM). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

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

static void test_parse_mem(void **state)
{
	struct gm_opts o = { 0 };
	uint64_t size = 0;
	(void)state;
	/* the plain form keeps working */
	assert_int_equal(gm_parse_mem("256M", &size, &o), 0);
	assert_int_equal(size, 256ull << 20);
	assert_false(o.hugepages || o.shared || o.prealloc || o.no_thp || o.numa);
	assert_int_equal(gm_parse_mem("1G,hugepages=on,shared=on,prealloc=on,thp=off", &size, &o), 0);
	assert_int_equal(size, 1ull << 30);
	assert_true(o.hugepages && o.shared && o.prealloc && o.no_thp);
	assert_int_equal(gm_parse_mem("512M,shared=off,thp=on", &size, &o), 0);
	assert_false(o.shared || o.no_thp);
	assert_true(o.hugepages);
	/* errors name what is wrong */
	assert_int_equal(gm_parse_mem("256M,huge=on", &size, &o), -EINVAL);
	assert_non_null(strstr(err_msg(), "huge"));
	assert_int_equal(gm_parse_mem("256M,shared=yes", &size, &o), -EINVAL);
	assert_non_null(strstr(err_msg(), "shared=yes"));
	assert_int_equal(gm_parse_mem("256M,prealloc", &size, &o), -EINVAL);
	assert_int_not_equal(gm_parse_mem("lots,shared=on", &size, &o), 0);
	assert_int_equal(gm_parse_mem("", &size, &o), -EINVAL);
}

static void test_parse_numa(void **state)
{
	struct gm_opts o = { 0 };
	(void)state;
	assert_int_equal(gm_parse_numa("node=3", &o), 0);
	assert_true(o.numa);
	assert_int_equal(o.numa_node, 3);
	assert_int_equal(gm_parse_numa("node=", &o), -EINVAL);
	assert_int_equal(gm_parse_numa("node=x", &o), -EINVAL);
	assert_int_equal(gm_parse_numa("node=-1", &o), -EINVAL);
	assert_int_equal(gm_parse_numa("3", &o), -EINVAL);
	assert_non_null(strstr(err_msg(), "node=N"));
}

static void test_default_backing(void **state)
{
	struct guest_mem m;
	(void)state;
	assert_int_equal(gm_alloc(&m, 32ull << 20), 0);
	assert_int_equal(m.fd, -1);
	assert_false(m.hugepages);
	/* 2 MiB aligned, so KVM can use large pages */
	assert_int_equal((uintptr_t)m.host % (2u << 20), 0);
	gm_free(&m);
	assert_int_equal(m.fd, -1);
}

static void test_shared(void **state)
{
	struct gm_opts o = { .shared = true };
	struct guest_mem m;
	uint8_t back[4];
	(void)state;
	assert_int_equal(gm_alloc_opts(&m, 32ull << 20, &o), 0);
	assert_true(m.fd >= 0);
	assert_int_equal((uintptr_t)m.host % (2u << 20), 0);
	/* the memfd is the RAM: another process mapping it sees the guest's bytes */
	memcpy(gm_ptr(&m, 0x12345, 4), "cvmm", 4);
	assert_int_equal(pread(m.fd, back, 4, 0x12345), 4);
	assert_memory_equal(back, "cvmm", 4);
	assert_int_equal(lseek(m.fd, 0, SEEK_END), 32ll << 20);
	gm_free(&m);
}

static void test_prealloc(void **state)
{
	struct gm_opts o = { .prealloc = true };
	struct guest_mem m;
	const size_t pages = (16u << 20) / 4096;
	unsigned char *vec = malloc(pages);
	size_t resident = 0;
	(void)state;
	assert_int_equal(gm_alloc_opts(&m, 16ull << 20, &o), 0);
	assert_int_equal(mincore(m.host, 16u << 20, vec), 0);
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	assert_int_equal(resident, pages);
	gm_free(&m);
	/* shared and preallocated together */
	o.shared = true;
	assert_int_equal(gm_alloc_opts(&m, 16ull << 20, &o), 0);
	assert_int_equal(mincore(m.host, 16u << 20, vec), 0);
	resident = 0;
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	assert_int_equal(resident, pages);
	gm_free(&m);
	free(vec);
}

static unsigned long free_hugepages(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	unsigned long v = 0;
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void test_hugepages(void **state)
{
	struct gm_opts o = { .hugepages = true };
	struct guest_mem m;
	(void)state;
	/* not a multiple of 2 MiB */
	assert_int_equal(gm_alloc_opts(&m, (32ull << 20) + 4096, &o), -EINVAL);
	assert_non_null(strstr(err_msg(), "2 MiB"));
	if (free_hugepages() < 8) {
		/* the one-line error says how many to reserve and where */
		assert_int_not_equal(gm_alloc_opts(&m, 16ull << 20, &o), 0);
		assert_non_null(strstr(err_msg(), "hugepages=on"));
		assert_null(m.host);
		return;
	}
	assert_int_equal(gm_alloc_opts(&m, 16ull << 20, &o), 0);
	assert_true(m.hugepages);
	assert_true(m.fd >= 0);
	memset(m.host, 0x5a, 16u << 20);
	gm_free(&m);
}

static void test_numa(void **state)
{
	struct gm_opts o = { .numa = true, .numa_node = 1023 };
	struct guest_mem m;
	struct stat st;
	(void)state;
	assert_int_equal(gm_alloc_opts(&m, 16ull << 20, &o), -ENOENT);
	assert_non_null(strstr(err_msg(), "no NUMA node 1023"));
	assert_null(m.host);
	if (stat("/sys/devices/system/node/node0", &st) < 0)
		return; /* a kernel without NUMA */
	o.numa_node = 0;
	o.prealloc = true;
	assert_int_equal(gm_alloc_opts(&m, 16ull << 20, &o), 0);
	memset(m.host, 1, 4096);
	gm_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ram),
		cmocka_unit_test(test_hole),
		cmocka_unit_test(test_alloc_limits),
		cmocka_unit_test(test_parse_mem),
		cmocka_unit_test(test_parse_numa),
		cmocka_unit_test(test_default_backing),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_prealloc),
		cmocka_unit_test(test_hugepages),
		cmocka_unit_test(test_numa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
