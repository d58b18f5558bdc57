/* Unit tests: OVMF SEV metadata / reset block / hashes table location parsing
 * (firmware/sev_metadata.c) and the plan checks that depend on them, on
 * synthetic images built here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"
#include "firmware/firmware.h"
#include "sev/sev.h"

#define IMG_SIZE (64u << 10)
#define META_OFF 0x1000u /* metadata header at image offset 0x1000 */

struct img {
	uint8_t d[IMG_SIZE];
	size_t foot, pos;
	unsigned total;
};

static void img_init(struct img *m)
{
	struct efi_guid g;

	memset(m->d, 0, sizeof(m->d));
	m->foot = m->pos = IMG_SIZE - 32 - 18;
	guid_parse(FW_GUID_TABLE_FOOTER, &g);
	memcpy(m->d + m->foot + 2, g.b, 16);
	m->total = 18;
	put_le16(m->d + m->foot, (uint16_t)m->total);
}

static void img_entry(struct img *m, const char *guid, const uint8_t *data, size_t n)
{
	struct efi_guid g;

	m->pos -= n + 18;
	memcpy(m->d + m->pos, data, n);
	put_le16(m->d + m->pos + n, (uint16_t)(n + 18));
	guid_parse(guid, &g);
	memcpy(m->d + m->pos + n + 2, g.b, 16);
	m->total += (unsigned)(n + 18);
	put_le16(m->d + m->foot, (uint16_t)m->total);
}

static void img_u32_entry(struct img *m, const char *guid, uint32_t a, uint32_t b, size_t n)
{
	uint8_t e[8];

	put_le32(e, a);
	put_le32(e + 4, b);
	img_entry(m, guid, e, n);
}

/* Metadata with the given sections; hdr_size 0 = exact. */
static void img_meta(struct img *m, const uint32_t (*sec)[3], uint32_t n, uint32_t version)
{
	uint8_t *h = m->d + META_OFF;

	memcpy(h, "ASEV", 4);
	put_le32(h + 4, 16 + 12 * n);
	put_le32(h + 8, version);
	put_le32(h + 12, n);
	for (uint32_t i = 0; i < n; i++)
		for (int k = 0; k < 3; k++)
			put_le32(h + 16 + 12 * i + 4 * k, sec[i][k]);
	img_u32_entry(m, FW_GUID_SEV_METADATA, IMG_SIZE - META_OFF, 0, 4);
}

static const uint32_t good[][3] = {
	{ 0x800000, 0x9000, FW_SEV_SNP_SEC_MEM },  { 0x80d000, 0x1000, FW_SEV_SNP_SECRETS },
	{ 0x80e000, 0x1000, FW_SEV_CPUID },        { 0x810000, 0x1000, FW_SEV_SNP_KERNEL_HASHES },
	{ 0, 0, FW_SEV_SVSM_CAA },                  /* empty: IntelTdx builds have these */
};

static int parse(struct img *m, struct fw_sev_info *info)
{
	struct fw_image fw;

	assert_int_equal(fw_from_bytes(m->d, IMG_SIZE, "fw.fd", &fw), 0);
	return fw_sev_parse(&fw, info);
}

static void test_good(void **state)
{
	static struct img m;
	struct fw_sev_info info;

	(void)state;
	img_init(&m);
	img_meta(&m, good, 5, 1);
	img_u32_entry(&m, FW_GUID_SEV_ES_RESET, 0x80b004, 0, 4);
	img_u32_entry(&m, FW_GUID_SEV_HASHES, 0x810c00, 0x400, 8);
	assert_int_equal(parse(&m, &info), 0);
	assert_int_equal(info.n_sections, 5);
	assert_int_equal(info.sections[3].type, FW_SEV_SNP_KERNEL_HASHES);
	assert_int_equal(info.sections[3].gpa, 0x810000);
	assert_true(info.has_reset_block);
	assert_int_equal(info.ap_reset_eip, 0x80b004);
	assert_true(info.has_hashes_table);
	assert_int_equal(info.hashes_gpa, 0x810c00);
	assert_int_equal(info.hashes_size, 0x400);
	assert_non_null(fw_sev_find_section(&info, FW_SEV_CPUID));
	assert_string_equal(fw_sev_section_name(FW_SEV_SNP_SECRETS), "SNP_SECRETS");
}

static void test_hashes_gpa_zero_means_none(void **state)
{
	static struct img m;
	struct fw_sev_info info;

	(void)state;
	img_init(&m);
	img_meta(&m, good, 3, 1);
	img_u32_entry(&m, FW_GUID_SEV_HASHES, 0, 0, 8);
	assert_int_equal(parse(&m, &info), 0);
	assert_false(info.has_hashes_table);
	assert_false(info.has_reset_block);
}

static void expect_error(const uint32_t (*sec)[3], uint32_t n, uint32_t version, const char *msg)
{
	static struct img m;
	struct fw_sev_info info;

	img_init(&m);
	img_meta(&m, sec, n, version);
	assert_int_equal(parse(&m, &info), -EINVAL);
	if (!strstr(err_msg(), msg))
		fail_msg("error '%s' does not contain '%s'", err_msg(), msg);
	assert_non_null(strstr(err_msg(), "fw.fd"));
}

static void test_bad_sections(void **state)
{
	const uint32_t overlap[][3] = { { 0x800000, 0x9000, 1 }, { 0x808000, 0x1000, 2 } };
	const uint32_t beyond[][3] = { { 0xfffff000, 0x2000, 1 } };
	const uint32_t in_fw[][3] = { { 0xffff0000, 0x1000, 1 } };
	const uint32_t unaligned[][3] = { { 0x800800, 0x1000, 1 } };
	const uint32_t unknown[][3] = { { 0x800000, 0x1000, 7 } };

	(void)state;
	expect_error(overlap, 2, 1, "overlaps section 0");
	expect_error(beyond, 1, 1, "out of range");
	expect_error(in_fw, 1, 1, "overlaps the firmware image");
	expect_error(unaligned, 1, 1, "not page aligned");
	expect_error(unknown, 1, 1, "unknown type 0x7");
	expect_error(good, 3, 2, "version 2");
}

static void test_bad_header(void **state)
{
	static struct img m;
	struct fw_sev_info info;

	(void)state;
	/* offset beyond the image */
	img_init(&m);
	img_u32_entry(&m, FW_GUID_SEV_METADATA, IMG_SIZE + 16, 0, 4);
	assert_int_equal(parse(&m, &info), -EINVAL);
	assert_non_null(strstr(err_msg(), "out of range"));
	/* bad signature */
	img_init(&m);
	img_meta(&m, good, 3, 1);
	m.d[META_OFF] = 'X';
	assert_int_equal(parse(&m, &info), -EINVAL);
	assert_non_null(strstr(err_msg(), "signature"));
	/* more items than the header size covers */
	img_init(&m);
	img_meta(&m, good, 3, 1);
	put_le32(m.d + META_OFF + 12, 9);
	assert_int_equal(parse(&m, &info), -EINVAL);
	assert_non_null(strstr(err_msg(), "size 52 is out of range for 9 sections"));
	/* header cut by the end of the image */
	img_init(&m);
	img_u32_entry(&m, FW_GUID_SEV_METADATA, 8, 0, 4);
	assert_int_equal(parse(&m, &info), -EINVAL);
	/* short table entries */
	img_init(&m);
	img_u32_entry(&m, FW_GUID_SEV_HASHES, 0x810c00, 0, 4);
	assert_int_equal(parse(&m, &info), -EINVAL);
	assert_non_null(strstr(err_msg(), "SEV hashes table entry"));
	/* no footer table at all */
	memset(m.d, 0, sizeof(m.d));
	assert_int_equal(parse(&m, &info), -ENOENT);
	assert_non_null(strstr(err_msg(), "no OVMF footer GUID table"));
}

static void test_plan_checks(void **state)
{
	static struct img m;
	struct fw_sev_info info;
	struct fw_image fw;
	struct fw_sev_hashes h = {0};
	struct launch_plan plan;
	struct sev_launch_cfg cfg = { .mode = SEV_MODE_SNP, .vcpus = 2, .fw = &fw, .info = &info };

	(void)state;
	img_init(&m);
	img_meta(&m, good, 5, 1);
	img_u32_entry(&m, FW_GUID_SEV_ES_RESET, 0x80b004, 0, 4);
	assert_int_equal(fw_from_bytes(m.d, IMG_SIZE, "fw.fd", &fw), 0);
	assert_int_equal(fw_sev_parse(&fw, &info), 0);
	assert_int_equal(sev_plan_build(&cfg, &plan), 0);
	/* firmware, 4 non-empty sections, 2 VMSAs; the empty one is skipped */
	assert_int_equal(plan.n, 7);
	assert_int_equal(plan.steps[0].gpa, 0xffff0000);
	assert_int_equal(plan.steps[4].kind, PLAN_ZERO); /* kernel hashes without a kernel */
	assert_int_equal(plan.steps[6].kind, PLAN_VMSA);
	assert_int_equal(plan.steps[6].vcpu, 1);
	assert_int_equal(plan.steps[6].gpa, SNP_VMSA_GPA);
	plan_free(&plan);
	/* GCE: SNP_SEC_MEM unmeasured; EC2: CPUID last */
	cfg.vmm = SEV_VMM_GCE;
	assert_int_equal(sev_plan_build(&cfg, &plan), 0);
	assert_int_equal(plan.steps[1].kind, PLAN_UNMEASURED);
	plan_free(&plan);
	cfg.vmm = SEV_VMM_EC2;
	assert_int_equal(sev_plan_build(&cfg, &plan), 0);
	assert_int_equal(plan.steps[4].kind, PLAN_CPUID);
	plan_free(&plan);
	cfg.vmm = SEV_VMM_QEMU;
	/* a kernel needs the hashes table */
	cfg.hashes = &h;
	assert_int_equal(sev_plan_build(&cfg, &plan), -EINVAL);
	assert_non_null(strstr(err_msg(), "no SEV hashes table"));
	cfg.mode = SEV_MODE_SEV;
	assert_int_equal(sev_plan_build(&cfg, &plan), -EINVAL);
	cfg.mode = SEV_MODE_SNP;
	cfg.hashes = NULL;
	cfg.vcpus = 0;
	assert_int_equal(sev_plan_build(&cfg, &plan), -EINVAL);
	assert_non_null(strstr(err_msg(), "--vcpus"));
	cfg.vcpus = 513;
	assert_int_equal(sev_plan_build(&cfg, &plan), -EINVAL);
	/* APs need the reset block */
	img_init(&m);
	img_meta(&m, good, 5, 1);
	img_u32_entry(&m, FW_GUID_SEV_HASHES, 0x811000, 0x400, 8);
	assert_int_equal(fw_sev_parse(&fw, &info), 0);
	cfg.vcpus = 2;
	assert_int_equal(sev_plan_build(&cfg, &plan), -EINVAL);
	assert_non_null(strstr(err_msg(), "reset block"));
	/* a hashes table outside the SNP_KERNEL_HASHES section */
	cfg.vcpus = 1;
	cfg.hashes = &h;
	assert_int_equal(sev_plan_build(&cfg, &plan), -EINVAL);
	assert_non_null(strstr(err_msg(), "outside the SNP_KERNEL_HASHES section"));
	/* SEV needs no section: table goes right after the firmware */
	cfg.mode = SEV_MODE_SEV;
	assert_int_equal(sev_plan_build(&cfg, &plan), 0);
	assert_int_equal(plan.n, 2);
	assert_int_equal(plan.steps[1].len, FW_SEV_HASHES_PADDED_LEN);
	plan_free(&plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),        cmocka_unit_test(test_hashes_gpa_zero_means_none),
		cmocka_unit_test(test_bad_sections), cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_plan_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
