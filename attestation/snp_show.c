/* snp_show.c - `cvmm show` for an SEV-SNP report: every field of the
 * ATTESTATION_REPORT (ABI spec Table 23), decoded the way `snpguest display
 * report` does, or the claims as JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "attestation/snp_report.h"
#include "common/common.h"

static void hexblock(FILE *out, const char *name, const uint8_t *p, size_t n)
{
	fprintf(out, "%s:\n", name);
	for (size_t i = 0; i < n; i += 16) {
		fputs("   ", out);
		for (size_t j = i; j < n && j < i + 16; j++)
			fprintf(out, " %02x", p[j]);
		fputc('\n', out);
	}
}

static void tcb(FILE *out, const char *name, uint64_t raw, enum snp_product prod)
{
	struct snp_tcb t;

	snp_tcb_decode(raw, prod, &t);
	fprintf(out, "%s (0x%016llx):\n", name, (unsigned long long)raw);
	if (t.has_fmc)
		fprintf(out, "    FMC:         %u\n", t.fmc);
	fprintf(out, "    Microcode:   %u\n    SNP:         %u\n    TEE:         %u\n    Boot Loader: %u\n",
		t.microcode, t.snp, t.tee, t.bootloader);
}

static void show_text(const struct snp_report *r, FILE *out)
{
	enum snp_product prod = snp_report_product(r);
	enum snp_signer s = snp_report_signer(r);
	uint64_t p = r->policy, pi = r->platform_info;

	fprintf(out, "Attestation Report (SEV-SNP, %u bytes):\n", SNP_REPORT_SIZE);
	fprintf(out, "Version:               %u\n", r->version);
	fprintf(out, "Guest SVN:             %u\n", r->guest_svn);
	fprintf(out, "Guest Policy (0x%llx):\n", (unsigned long long)p);
	fprintf(out, "    ABI Major:         %llu\n    ABI Minor:         %llu\n", (unsigned long long)(p >> 8) & 0xff,
		(unsigned long long)p & 0xff);
	fprintf(out, "    SMT Allowed:       %d\n    Migrate MA:        %d\n    Debug Allowed:     %d\n"
		     "    Single Socket:     %d\n",
		!!(p & SNP_POLICY_SMT), !!(p & SNP_POLICY_MIGRATE_MA), !!(p & SNP_POLICY_DEBUG),
		!!(p & SNP_POLICY_SINGLE_SOCKET));
	hexblock(out, "Family ID", r->family_id, 16);
	hexblock(out, "Image ID", r->image_id, 16);
	fprintf(out, "VMPL:                  %u\n", r->vmpl);
	fprintf(out, "Signature Algorithm:   %u%s\n", r->signature_algo,
		r->signature_algo == 1 ? " (ECDSA P-384 with SHA-384)" : "");
	tcb(out, "Current TCB", r->current_tcb, prod);
	fprintf(out, "Platform Info (0x%llx):\n", (unsigned long long)pi);
	fprintf(out, "    SMT Enabled:       %d\n    TSME Enabled:      %d\n    ECC Enabled:       %d\n"
		     "    RAPL Disabled:     %d\n    Ciphertext Hiding: %d\n    Alias Check Done:  %d\n",
		!!(pi & 1), !!(pi & 2), !!(pi & 4), !!(pi & 8), !!(pi & 16), !!(pi & 32));
	fprintf(out, "Author Key Enabled:    %u\n", r->flags & 1);
	fprintf(out, "Mask Chip Key:         %u\n", (r->flags >> 1) & 1);
	fprintf(out, "Signing Key:           %s\n",
		s == SNP_SIGNER_VCEK ? "VCEK" : s == SNP_SIGNER_VLEK ? "VLEK" : s == SNP_SIGNER_NONE ? "none" : "reserved");
	for (size_t i = 0; i < snp_report_byte_fields_count; i++) {
		const struct snp_byte_field *f = &snp_report_byte_fields[i];

		hexblock(out, f->title, (const uint8_t *)r + f->off, f->len);
	}
	tcb(out, "Reported TCB", r->reported_tcb, prod);
	if (r->version >= 3)
		fprintf(out, "CPUID Family/Model/Stepping: 0x%02x/0x%02x/0x%02x (%s)\n", r->cpuid_fam_id,
			r->cpuid_mod_id, r->cpuid_step, snp_product_name(prod));
	hexblock(out, "Chip ID", r->chip_id, 64);
	tcb(out, "Committed TCB", r->committed_tcb, prod);
	fprintf(out, "Current Version:       %u.%u.%u\n", r->current_major, r->current_minor, r->current_build);
	fprintf(out, "Committed Version:     %u.%u.%u\n", r->committed_major, r->committed_minor, r->committed_build);
	tcb(out, "Launch TCB", r->launch_tcb, prod);
	if (r->version >= 5)
		fprintf(out, "Launch Mitigation Vector:  0x%016llx\nCurrent Mitigation Vector: 0x%016llx\n",
			(unsigned long long)r->launch_mit_vector, (unsigned long long)r->current_mit_vector);
	fprintf(out, "Signature:\n");
	hexblock(out, "  R (little-endian)", r->sig_r, SNP_SIG_COMPONENT);
	hexblock(out, "  S (little-endian)", r->sig_s, SNP_SIG_COMPONENT);
}

int att_snp_show(const uint8_t *report, size_t len, bool json, FILE *out)
{
	struct snp_report rep;
	struct att_result r;
	char *s;
	int ret;

	if ((ret = snp_report_parse(report, len, "report", &rep)))
		return ret;
	if (!json) {
		show_text(&rep, out);
		return 0;
	}
	if ((ret = att_result_init(&r, "snp")))
		return ret;
	snp_report_claims(&rep, snp_report_product(&rep), &r);
	att_claim_hex(&r, "signature_r", rep.sig_r, SNP_SIG_COMPONENT);
	att_claim_hex(&r, "signature_s", rep.sig_s, SNP_SIG_COMPONENT);
	json_object_set_new(r.claims, "platform", json_string("snp"));
	s = json_dumps(r.claims, JSON_INDENT(2) | JSON_SORT_KEYS);
	att_result_free(&r);
	if (!s)
		return err_set(ENOMEM, "out of memory");
	fprintf(out, "%s\n", s);
	free(s);
	return 0;
}
