/* Unit tests: the virtio device manifest (vmm/virtio/manifest.c): the DTB
 * parses back with libfdt, lists every device with its type, slot,
 * features and backing, and is byte-for-byte deterministic. */
#include <errno.h>
#include <libfdt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_virtio_fake.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static char img[64];

/* The same device set as `cvmm run` would create from its flags. */
static struct vm *make_vm(void)
{
	struct vm *vm = fake_vm_new();

	assert_int_equal(virtio_console_create(vm, -1, 1), 0);
	assert_int_equal(virtio_blk_create(vm, img, true), 0);
	assert_int_equal(virtio_rng_create(vm), 0);
	assert_int_equal(virtio_net_create_fd(vm, -1, mac, "tap0"), 0);
	assert_int_equal(virtio_vsock_create_fd(vm, -1, 42), 0);
	return vm;
}

static uint64_t prop_u64(const void *fdt, int node, const char *name)
{
	int len;
	const uint8_t *p = fdt_getprop(fdt, node, name, &len);

	assert_non_null(p);
	assert_int_equal(len, 8);
	return (uint64_t)fdt32_to_cpu(*(const fdt32_t *)p) << 32 | fdt32_to_cpu(*(const fdt32_t *)(p + 4));
}

static uint32_t prop_u32(const void *fdt, int node, const char *name)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	assert_non_null(p);
	assert_int_equal(len, 4);
	return fdt32_to_cpu(*p);
}

static void test_manifest_parses(void **state)
{
	struct vm *vm;
	void *dtb;
	size_t len;
	int devs, node, plen, n = 0;
	const char *s;

	(void)state;
	vm = make_vm();
	assert_int_equal(virtio_manifest_dtb(vm, &dtb, &len), 0);
	assert_int_equal(fdt_check_full(dtb, len), 0);
	assert_int_equal(fdt_totalsize(dtb), len);
	assert_string_equal(fdt_getprop(dtb, 0, "compatible", NULL), "cvmm,virtio-manifest");
	assert_int_equal(prop_u32(dtb, 0, "version"), 1);
	devs = fdt_path_offset(dtb, "/devices");
	assert_true(devs >= 0);

	static const char *const types[] = { "virtio-console", "virtio-blk", "virtio-rng", "virtio-net",
					     "virtio-vsock" };
	fdt_for_each_subnode(node, dtb, devs) {
		assert_true(n < 5);
		s = fdt_getprop(dtb, node, "type", NULL);
		assert_string_equal(s, types[n]);
		assert_int_equal(prop_u32(dtb, node, "pci-slot"), (uint32_t)n + 1); /* slot order */
		assert_int_equal(prop_u32(dtb, node, "pci-vendor-id"), 0x1af4);
		uint64_t feat = prop_u64(dtb, node, "features");
		assert_true(feat & 1ull << VIRTIO_F_VERSION_1);
		assert_true(feat & 1ull << VIRTIO_F_ACCESS_PLATFORM);
		n++;
	}
	assert_int_equal(n, 5);

	node = fdt_path_offset(dtb, "/devices/virtio-blk@2");
	assert_true(node >= 0);
	assert_string_equal(fdt_getprop(dtb, node, "path", NULL), img);
	assert_non_null(fdt_getprop(dtb, node, "read-only", &plen));
	assert_int_equal(plen, 0);
	assert_int_equal(prop_u64(dtb, node, "capacity-sectors"), 8);
	assert_true(prop_u64(dtb, node, "features") & 1u << 5); /* VIRTIO_BLK_F_RO */
	assert_int_equal(prop_u32(dtb, node, "virtio-device-id"), 2);
	assert_int_equal(prop_u32(dtb, node, "pci-device-id"), 0x1042);

	node = fdt_path_offset(dtb, "/devices/virtio-net@4");
	assert_string_equal(fdt_getprop(dtb, node, "tap", NULL), "tap0");
	assert_memory_equal(fdt_getprop(dtb, node, "mac", &plen), mac, 6);
	assert_int_equal(plen, 6);
	node = fdt_path_offset(dtb, "/devices/virtio-vsock@5");
	assert_int_equal(prop_u64(dtb, node, "guest-cid"), 42);
	assert_int_equal(prop_u32(dtb, node, "num-queues"), 3);
	free(dtb);
	fake_vm_free(vm);
}

static void test_manifest_deterministic(void **state)
{
	struct vm *a, *b;
	void *da, *db;
	size_t la, lb;

	(void)state;
	a = make_vm();
	assert_int_equal(virtio_manifest_dtb(a, &da, &la), 0);
	b = make_vm(); /* a second VM in the same process: only its own devices */
	assert_int_equal(virtio_manifest_dtb(b, &db, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	free(db);
	assert_int_equal(virtio_manifest_dtb(a, &db, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	free(db);
	fake_vm_free(b);
	/* a different device set gives different bytes */
	fake_current = a;
	assert_int_equal(virtio_rng_create(a), 0);
	assert_int_equal(virtio_manifest_dtb(a, &db, &lb), 0);
	assert_true(lb > la);
	free(db);
	free(da);
	fake_vm_free(a);
}

static void test_manifest_empty(void **state)
{
	struct vm *vm = fake_vm_new();
	void *dtb;
	size_t len;

	(void)state;
	assert_int_equal(virtio_manifest_dtb(vm, &dtb, &len), 0);
	assert_int_equal(fdt_check_full(dtb, len), 0);
	assert_true(fdt_path_offset(dtb, "/devices") >= 0);
	assert_int_equal(fdt_first_subnode(dtb, fdt_path_offset(dtb, "/devices")), -FDT_ERR_NOTFOUND);
	free(dtb);
	fake_vm_free(vm);
}

static int group_setup(void **state)
{
	int fd;

	(void)state;
	snprintf(img, sizeof(img), "/tmp/cvmm-test-manifest-XXXXXX");
	fd = mkstemp(img);
	if (fd < 0 || ftruncate(fd, 8 * 512) < 0)
		return -1;
	close(fd);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unlink(img);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_parses),
		cmocka_unit_test(test_manifest_deterministic),
		cmocka_unit_test(test_manifest_empty),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
