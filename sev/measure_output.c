/* What `cvmm measure` prints: the digest as one line (hex by default,
 * base64 on request, sev-snp-measure's "-v" sentence), or a JSON object with
 * the digest and every input (jansson). */
#include <errno.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "sev_measure.h"

static const char *mode_name(const struct measure_req *m)
{
	/* sev-snp-measure prints its SevMode names with -v. */
	switch (m->mode) {
	case SEV_MODE_SEV: return "SEV";
	case SEV_MODE_SEV_ES: return "SEV_ES";
	case SEV_MODE_SNP: return m->svsm_mode ? "SEV_SNP_SVSM" : "SEV_SNP";
	}
	return "?";
}

static const char *platform_name(const struct measure_req *m)
{
	if (m->ovmf_hash_only)
		return "snp:ovmf-hash";
	if (m->svsm_mode)
		return "snp:svsm";
	switch (m->mode) {
	case SEV_MODE_SEV: return "sev";
	case SEV_MODE_SEV_ES: return "sev-es";
	case SEV_MODE_SNP: return "snp";
	}
	return "?";
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
	hex_encode(p, n, out);
}

static int add(json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v))
		return err_set(ENOMEM, "JSON output: out of memory");
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int file_json(json_t *o, const char *key, const char *path, size_t len, const uint8_t *sha256)
{
	char hex[65];
	json_t *f = json_object();
	int ret;

	if (!f)
		return err_set(ENOMEM, "JSON output: out of memory");
	ret = add(f, "path", json_string(path));
	if (!ret)
		ret = add(f, "size", json_integer((json_int_t)len));
	if (!ret && sha256) {
		hex_of(sha256, 32, hex);
		ret = add(f, "sha256", json_string(hex));
	}
	if (ret) {
		json_decref(f);
		return ret;
	}
	return add(o, key, f);
}

static int json_inputs(const struct measure_req *m, json_t *in)
{
	char buf[2 * SNP_DIGEST_LEN + 3];
	int ret = file_json(in, "firmware", m->firmware, m->fw.size, NULL);

	if (!ret && !m->ovmf_hash_only && m->mode != SEV_MODE_SEV) {
		ret = add(in, "vcpus", json_integer(m->vcpus));
		if (!ret)
			ret = add(in, "vcpu_type", str_or_null(m->vcpu_type));
		snprintf(buf, sizeof(buf), "0x%x", m->vcpu_sig);
		if (!ret)
			ret = add(in, "vcpu_sig", m->has_vcpu_sig ? json_string(buf) : json_null());
		/* the SVSM's VMSAs always carry SNP-active only (sev/svsm.c) */
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)(m->svsm_mode ? 0x1 : m->guest_features));
		if (!ret && m->mode == SEV_MODE_SNP)
			ret = add(in, "guest_features", json_string(buf));
		if (!ret)
			ret = add(in, "vmm_type", json_string(sev_vmm_type_name(m->vmm)));
	}
	if (!ret && m->has_ovmf_hash) {
		hex_of(m->ovmf_hash, SNP_DIGEST_LEN, buf);
		ret = add(in, "snp_ovmf_hash", json_string(buf));
	}
	if (!ret && m->svsm_mode) {
		ret = file_json(in, "svsm", m->svsm, m->svsm_fw.size, NULL);
		if (!ret)
			ret = add(in, "vars_size", json_integer((json_int_t)m->vars_size));
	}
	if (ret || m->ovmf_hash_only)
		return ret;
	if (!m->kernel)
		return add(in, "kernel", json_null());
	ret = file_json(in, "kernel", m->kernel, m->kernel_len, m->hashes.kernel);
	if (!ret && m->initrd)
		ret = file_json(in, "initrd", m->initrd, m->initrd_len, m->hashes.initrd);
	else if (!ret)
		ret = add(in, "initrd", json_null());
	if (!ret)
		ret = add(in, "append", str_or_null(m->append));
	if (!ret) {
		hex_of(m->hashes.cmdline, 32, buf);
		ret = add(in, "cmdline_sha256", json_string(buf));
	}
	return ret;
}

static int format_json(const struct measure_req *m, const char *digest, struct bytebuf *out)
{
	json_t *o = json_object(), *in = json_object();
	char hex[2 * SNP_DIGEST_LEN + 1];
	char *text = NULL;
	int ret = (!o || !in) ? err_set(ENOMEM, "JSON output: out of memory") : 0;

	hex_of(m->digest, m->digest_len, hex);
	if (!ret)
		ret = add(o, "platform", json_string(platform_name(m)));
	if (!ret)
		ret = add(o, "digest_algorithm", json_string(m->digest_len == SNP_DIGEST_LEN ? "sha384" : "sha256"));
	if (!ret)
		ret = add(o, "digest", json_string(hex));
	if (!ret && m->base64)
		ret = add(o, "digest_base64", json_string(digest));
	if (!ret)
		ret = json_inputs(m, in);
	if (!ret) {
		ret = add(o, "inputs", in);
		in = NULL;
	}
	if (!ret && !(text = json_dumps(o, JSON_INDENT(2))))
		ret = err_set(ENOMEM, "JSON output: out of memory");
	if (!ret)
		ret = bb_printf(out, "%s\n", text);
	free(text);
	json_decref(in);
	json_decref(o);
	return ret;
}

int sev_measure_format(const struct measure_req *m, struct bytebuf *out)
{
	char text[2 * SNP_DIGEST_LEN + 1];

	/* --mode snp:ovmf-hash prints bare hex whatever the format flags, as
	 * sev-snp-measure does: the line is meant for --snp-ovmf-hash. */
	if (m->ovmf_hash_only && !m->json) {
		hex_encode(m->digest, m->digest_len, text);
		return bb_printf(out, "%s\n", text);
	}
	if (m->base64)
		EVP_EncodeBlock((unsigned char *)text, m->digest, (int)m->digest_len);
	else
		hex_encode(m->digest, m->digest_len, text);
	if (m->json)
		return format_json(m, text, out);
	if (m->verbose)
		return bb_printf(out, "Calculated %s guest measurement: %s\n", mode_name(m), text);
	return bb_printf(out, "%s\n", text);
}
