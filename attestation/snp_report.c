/* snp_report.c - parse the SEV-SNP ATTESTATION_REPORT with the bounds-checked
 * reader. Layout: AMD SEV-SNP Firmware ABI spec, Table 23 "ATTESTATION_REPORT
 * Structure" (offsets below), TCB_VERSION in Table 3 (the Turin layout adds
 * FMC and moves the other components, see snp_tcb_decode). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "attestation/snp_report.h"
#include "common/common.h"

#define BYTE_FIELD(member, title) { #member, title, offsetof(struct snp_report, member), \
				    sizeof(((struct snp_report *)0)->member) }
const struct snp_byte_field snp_report_byte_fields[] = {
	BYTE_FIELD(report_data, "Report Data"),
	BYTE_FIELD(measurement, "Measurement"),
	BYTE_FIELD(host_data, "Host Data"),
	BYTE_FIELD(id_key_digest, "ID Key Digest"),
	BYTE_FIELD(author_key_digest, "Author Key Digest"),
	BYTE_FIELD(report_id, "Report ID"),
	BYTE_FIELD(report_id_ma, "Report ID Migration Agent"),
};
const size_t snp_report_byte_fields_count = ARRAY_SIZE(snp_report_byte_fields);

int snp_report_parse(const uint8_t *p, size_t len, const char *what, struct snp_report *r)
{
	struct reader rd;

	memset(r, 0, sizeof(*r));
	if (len != SNP_REPORT_SIZE)
		return err_set(EINVAL, "%s: %zu bytes, an SNP attestation report is %u bytes", what, len,
			       SNP_REPORT_SIZE);
	rd_init(&rd, p, len, what);
	rd_u32(&rd, "VERSION", &r->version);
	/* Version 2 is the first public layout; 3 adds CPUID_FAM/MOD/STEP at
	 * 0x188; 4 is 3 with new TCB semantics on Turin; 5 adds the
	 * mitigation vectors at 0x1F8. */
	if (r->version < 2 || r->version > 5)
		return err_set(EINVAL, "%s: VERSION %u is not a supported attestation report version (2..5)",
			       what, r->version);
	rd_u32(&rd, "GUEST_SVN", &r->guest_svn);
	rd_u64(&rd, "POLICY", &r->policy);
	rd_bytes(&rd, "FAMILY_ID", r->family_id, 16);
	rd_bytes(&rd, "IMAGE_ID", r->image_id, 16);
	rd_u32(&rd, "VMPL", &r->vmpl);
	rd_u32(&rd, "SIGNATURE_ALGO", &r->signature_algo);
	rd_u64(&rd, "CURRENT_TCB", &r->current_tcb);
	rd_u64(&rd, "PLATFORM_INFO", &r->platform_info);
	rd_u32(&rd, "FLAGS", &r->flags);
	rd_skip(&rd, "reserved 0x4C", 4);
	rd_bytes(&rd, "REPORT_DATA", r->report_data, 64);
	rd_bytes(&rd, "MEASUREMENT", r->measurement, 48);
	rd_bytes(&rd, "HOST_DATA", r->host_data, 32);
	rd_bytes(&rd, "ID_KEY_DIGEST", r->id_key_digest, 48);
	rd_bytes(&rd, "AUTHOR_KEY_DIGEST", r->author_key_digest, 48);
	rd_bytes(&rd, "REPORT_ID", r->report_id, 32);
	rd_bytes(&rd, "REPORT_ID_MA", r->report_id_ma, 32);
	rd_u64(&rd, "REPORTED_TCB", &r->reported_tcb);
	if (r->version >= 3) {
		rd_u8(&rd, "CPUID_FAM_ID", &r->cpuid_fam_id);
		rd_u8(&rd, "CPUID_MOD_ID", &r->cpuid_mod_id);
		rd_u8(&rd, "CPUID_STEP", &r->cpuid_step);
	}
	rd_seek(&rd, "CHIP_ID", 0x1A0);
	rd_bytes(&rd, "CHIP_ID", r->chip_id, 64);
	rd_u64(&rd, "COMMITTED_TCB", &r->committed_tcb);
	rd_u8(&rd, "CURRENT_BUILD", &r->current_build);
	rd_u8(&rd, "CURRENT_MINOR", &r->current_minor);
	rd_u8(&rd, "CURRENT_MAJOR", &r->current_major);
	rd_skip(&rd, "reserved 0x1EB", 1);
	rd_u8(&rd, "COMMITTED_BUILD", &r->committed_build);
	rd_u8(&rd, "COMMITTED_MINOR", &r->committed_minor);
	rd_u8(&rd, "COMMITTED_MAJOR", &r->committed_major);
	rd_skip(&rd, "reserved 0x1EF", 1);
	rd_u64(&rd, "LAUNCH_TCB", &r->launch_tcb);
	if (r->version >= 5) {
		rd_u64(&rd, "LAUNCH_MIT_VECTOR", &r->launch_mit_vector);
		rd_u64(&rd, "CURRENT_MIT_VECTOR", &r->current_mit_vector);
	}
	rd_seek(&rd, "SIGNATURE", SNP_REPORT_SIGNED_LEN);
	rd_bytes(&rd, "SIGNATURE.R", r->sig_r, SNP_SIG_COMPONENT);
	rd_bytes(&rd, "SIGNATURE.S", r->sig_s, SNP_SIG_COMPONENT);
	if (rd.failed)
		return -EINVAL;
	r->raw = p;
	return 0;
}

enum snp_signer snp_report_signer(const struct snp_report *r)
{
	return (enum snp_signer)((r->flags >> 2) & 7);
}

/* CPUID Fn0000_0001 family/model as the report gives them (extended family
 * already added): Milan is family 19h models 00h-0Fh, Genoa 19h 10h-1Fh and
 * A0h-AFh (Bergamo/Siena share the Genoa keys), Turin 1Ah 00h-1Fh. */
enum snp_product snp_report_product(const struct snp_report *r)
{
	uint8_t f = r->cpuid_fam_id, m = r->cpuid_mod_id;

	if (r->version < 3)
		return SNP_PRODUCT_UNKNOWN;
	if (f == 0x19 && m <= 0x0F)
		return SNP_PRODUCT_MILAN;
	if (f == 0x19 && ((m >= 0x10 && m <= 0x1F) || (m >= 0xA0 && m <= 0xAF)))
		return SNP_PRODUCT_GENOA;
	if (f == 0x1A && m <= 0x1F)
		return SNP_PRODUCT_TURIN;
	return SNP_PRODUCT_UNKNOWN;
}

void snp_tcb_decode(uint64_t raw, enum snp_product prod, struct snp_tcb *t)
{
	uint8_t b[8];

	put_le64(b, raw);
	memset(t, 0, sizeof(*t));
	t->raw = raw;
	if (prod == SNP_PRODUCT_TURIN) {
		t->has_fmc = true;
		t->fmc = b[0];
		t->bootloader = b[1];
		t->tee = b[2];
		t->snp = b[3];
	} else {
		t->bootloader = b[0];
		t->tee = b[1];
		t->snp = b[6];
	}
	t->microcode = b[7];
}

const char *snp_product_name(enum snp_product p)
{
	switch (p) {
	case SNP_PRODUCT_MILAN:
		return "Milan";
	case SNP_PRODUCT_GENOA:
		return "Genoa";
	case SNP_PRODUCT_TURIN:
		return "Turin";
	default:
		return "unknown";
	}
}

enum snp_product snp_product_from_name(const char *s)
{
	static const struct {
		const char *name;
		enum snp_product p;
	} names[] = { { "Milan", SNP_PRODUCT_MILAN }, { "Genoa", SNP_PRODUCT_GENOA },
		      { "Turin", SNP_PRODUCT_TURIN } };

	if (!s)
		return SNP_PRODUCT_UNKNOWN;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasestr(s, names[i].name))
			return names[i].p;
	return SNP_PRODUCT_UNKNOWN;
}

static json_t *tcb_json(uint64_t raw, enum snp_product prod)
{
	struct snp_tcb t;
	uint8_t b[8];
	char hex[17];
	json_t *o;

	snp_tcb_decode(raw, prod, &t);
	put_le64(b, raw);
	hex_encode(b, 8, hex);
	o = json_pack("{s:s, s:i, s:i, s:i, s:i}", "raw", hex, "bootloader", t.bootloader, "tee", t.tee, "snp",
		      t.snp, "microcode", t.microcode);
	if (o && t.has_fmc)
		json_object_set_new(o, "fmc", json_integer(t.fmc));
	return o;
}

void snp_report_claims(const struct snp_report *rep, enum snp_product prod, struct att_result *r)
{
	json_t *c = r->claims;
	enum snp_signer s = snp_report_signer(rep);
	uint8_t tcb[8];
	char buf[32];

	if (!c)
		return;
	json_object_set_new(c, "version", json_integer(rep->version));
	json_object_set_new(c, "guest_svn", json_integer(rep->guest_svn));
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)rep->policy);
	json_object_set_new(c, "policy", json_string(buf));
	att_claim_hex(r, "family_id", rep->family_id, 16);
	att_claim_hex(r, "image_id", rep->image_id, 16);
	json_object_set_new(c, "vmpl", json_integer(rep->vmpl));
	json_object_set_new(c, "signature_algo", json_integer(rep->signature_algo));
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)rep->platform_info);
	json_object_set_new(c, "platform_info", json_string(buf));
	json_object_set_new(c, "signing_key", json_string(s == SNP_SIGNER_VCEK	  ? "vcek"
							    : s == SNP_SIGNER_VLEK ? "vlek"
							    : s == SNP_SIGNER_NONE ? "none"
										   : "reserved"));
	json_object_set_new(c, "author_key_en", json_boolean(rep->flags & 1));
	json_object_set_new(c, "mask_chip_key", json_boolean(rep->flags & 2));
	for (size_t i = 0; i < snp_report_byte_fields_count; i++) {
		const struct snp_byte_field *f = &snp_report_byte_fields[i];

		att_claim_hex(r, f->name, (const uint8_t *)rep + f->off, f->len);
	}
	/* TCB fields as the 8 bytes appear in the report, plus decoded objects. */
	put_le64(tcb, rep->reported_tcb);
	att_claim_hex(r, "reported_tcb", tcb, 8);
	put_le64(tcb, rep->current_tcb);
	att_claim_hex(r, "current_tcb", tcb, 8);
	put_le64(tcb, rep->committed_tcb);
	att_claim_hex(r, "committed_tcb", tcb, 8);
	put_le64(tcb, rep->launch_tcb);
	att_claim_hex(r, "launch_tcb", tcb, 8);
	json_object_set_new(c, "reported_tcb_fields", tcb_json(rep->reported_tcb, prod));
	json_object_set_new(c, "current_tcb_fields", tcb_json(rep->current_tcb, prod));
	json_object_set_new(c, "committed_tcb_fields", tcb_json(rep->committed_tcb, prod));
	json_object_set_new(c, "launch_tcb_fields", tcb_json(rep->launch_tcb, prod));
	if (rep->version >= 3) {
		json_object_set_new(c, "cpuid_fam_id", json_integer(rep->cpuid_fam_id));
		json_object_set_new(c, "cpuid_mod_id", json_integer(rep->cpuid_mod_id));
		json_object_set_new(c, "cpuid_step", json_integer(rep->cpuid_step));
	}
	att_claim_hex(r, "chip_id", rep->chip_id, 64);
	snprintf(buf, sizeof(buf), "%u.%u.%u", rep->current_major, rep->current_minor, rep->current_build);
	json_object_set_new(c, "current_version", json_string(buf));
	snprintf(buf, sizeof(buf), "%u.%u.%u", rep->committed_major, rep->committed_minor, rep->committed_build);
	json_object_set_new(c, "committed_version", json_string(buf));
	if (rep->version >= 5) {
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)rep->launch_mit_vector);
		json_object_set_new(c, "launch_mit_vector", json_string(buf));
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)rep->current_mit_vector);
		json_object_set_new(c, "current_mit_vector", json_string(buf));
	}
	json_object_set_new(c, "product", json_string(prod == SNP_PRODUCT_MILAN   ? "milan"
							 : prod == SNP_PRODUCT_GENOA ? "genoa"
							 : prod == SNP_PRODUCT_TURIN ? "turin"
										     : "unknown"));
}
