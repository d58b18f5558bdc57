/* Unit tests: common/ (errors, hex, reader, files) and the OVMF footer table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "firmware/firmware.h"

static void test_hex_roundtrip(void **state)
{
	uint8_t out[4];
	char s[9];
	size_t got;

	(void)state;
	assert_int_equal(hex_decode_exact("0xDEadBEef", out, 4, "x"), 0);
	hex_encode(out, 4, s);
	assert_string_equal(s, "deadbeef");
	assert_int_equal(hex_decode("abc", out, 4, &got, "digest"), -EINVAL);
	assert_non_null(strstr(err_msg(), "digest: odd number"));
	assert_int_equal(hex_decode("zz", out, 4, &got, "x"), -EINVAL);
	assert_int_equal(hex_decode_exact("aabb", out, 4, "x"), -EINVAL);
	assert_int_equal(hex_decode("aabbccddee", out, 4, &got, "x"), -EINVAL);
}

static void test_parse_numbers(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_u64("0x21", 100, &v, "n"), 0);
	assert_int_equal(v, 0x21);
	assert_int_equal(parse_u64("513", 512, &v, "vcpus"), -ERANGE);
	assert_int_equal(parse_u64("-1", 512, &v, "vcpus"), -EINVAL);
	assert_int_equal(parse_u64("12x", 512, &v, "vcpus"), -EINVAL);
	assert_int_equal(parse_size("512M", &v, "mem"), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(parse_size("2GiB", &v, "mem"), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(parse_size("4q", &v, "mem"), -EINVAL);
}

static void test_reader_bounds(void **state)
{
	const uint8_t buf[6] = { 1, 0, 2, 0, 0, 0 };
	struct reader r;
	uint16_t a;
	uint32_t b;
	uint64_t c;

	(void)state;
	rd_init(&r, buf, sizeof(buf), "blob");
	assert_int_equal(rd_u16(&r, "a", &a), 0);
	assert_int_equal(a, 1);
	assert_int_equal(rd_u32(&r, "b", &b), 0);
	assert_int_equal(b, 2);
	assert_int_equal(rd_u64(&r, "c", &c), -EINVAL);
	assert_non_null(strstr(err_msg(), "blob: c at offset 6"));
	/* a failed reader stays failed */
	assert_int_equal(rd_seek(&r, "x", 0), -EINVAL);
	assert_false(range_ok(UINT64_MAX, 2, 10));
	assert_true(range_ok(4, 6, 10));
}

static void test_file_write_atomic(void **state)
{
	char path[] = "/tmp/cvmm-test-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *data;
	size_t len;

	(void)state;
	close(fd);
	assert_int_equal(file_write(path, "hello", 5), 0);
	assert_int_equal(file_read(path, 100, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	free(data);
	assert_int_equal(file_read(path, 4, &data, &len), -EFBIG);
	unlink(path);
	assert_int_equal(file_read("/nonexistent/x", 4, &data, &len), -ENOENT);
	assert_int_equal(file_write("/nonexistent/dir/x", "a", 1), -ENOENT);
}

static void test_guid(void **state)
{
	struct efi_guid g;
	char s[37];

	(void)state;
	assert_int_equal(guid_parse(FW_GUID_TABLE_FOOTER, &g), 0);
	/* EFI_GUID stores the first three fields little-endian */
	assert_int_equal(g.b[0], 0xde);
	assert_int_equal(g.b[3], 0x96);
	assert_int_equal(g.b[8], 0xba);
	guid_format(&g, s);
	assert_string_equal(s, FW_GUID_TABLE_FOOTER);
	assert_int_equal(guid_parse("96b582de-1fb2", &g), -EINVAL);
}

static void test_ovmf_table(void **state)
{
	struct fw_image fw;
	const uint8_t *d;
	size_t n;

	(void)state;
	assert_int_equal(fw_load("tests/fixtures/measure/firmware/OVMF-2022.11-6+deb12u2.fd", &fw), 0);
	assert_int_equal(fw.base_gpa, 0xffe00000);
	assert_int_equal(fw_table_check(&fw), 0);
	assert_int_equal(fw_table_find(&fw, FW_GUID_SEV_METADATA, &d, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(fw_table_find(&fw, FW_GUID_SEV_ES_RESET, &d, &n), 0);
	/* this build carries the hashes-table entry with gpa 0, size 0: no table */
	assert_int_equal(fw_table_find(&fw, FW_GUID_SEV_HASHES, &d, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(le64(d), 0);
	assert_int_equal(fw_table_find(&fw, "00000000-0000-0000-0000-000000000001", &d, &n), -ENOENT);
	/* corrupt the footer table size: a clear error, no crash */
	fw.data[fw.size - 50] = 0xff;
	fw.data[fw.size - 49] = 0xff;
	assert_int_equal(fw_table_check(&fw), -EINVAL);
	assert_non_null(strstr(err_msg(), "OVMF footer table"));
	memset(fw.data + fw.size - 48, 0, 16);
	assert_int_equal(fw_table_find(&fw, FW_GUID_SEV_METADATA, &d, &n), -ENOENT);
	fw_free(&fw);

	static uint8_t small[2048];
	assert_int_equal(fw_from_bytes(small, sizeof(small), "small.fd", &fw), -EINVAL);
	assert_non_null(strstr(err_msg(), "too short"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_roundtrip),  cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_reader_bounds),  cmocka_unit_test(test_file_write_atomic),
		cmocka_unit_test(test_guid),           cmocka_unit_test(test_ovmf_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
