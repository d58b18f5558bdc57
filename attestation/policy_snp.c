/* policy_snp.c - the "snp" section of the policy (docs/verify.md) and the
 * advisory checks made without one. Guest policy bits: AMD SEV-SNP ABI spec
 * Table 9; PLATFORM_INFO: Table 24; TCB_VERSION: Table 3. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attestation/snp_report.h"
#include "common/common.h"

enum kind { K_HEX, K_HEX_LIST, K_BOOL, K_U8, K_U32, K_MASK, K_TCB };

static const struct key {
	const char *name;
	enum kind kind;
	size_t len; /* bytes for hex keys */
} keys[] = {
	{ "measurements", K_HEX_LIST, 48 },
	{ "report_data", K_HEX, 64 },
	{ "host_data", K_HEX, 32 },
	{ "id_key_digest", K_HEX, 48 },
	{ "author_key_digest", K_HEX, 48 },
	{ "family_id", K_HEX, 16 },
	{ "image_id", K_HEX, 16 },
	{ "chip_id", K_HEX, 64 },
	{ "allow_debug", K_BOOL, 0 },
	{ "allow_outdated_tcb", K_BOOL, 0 },
	{ "allow_expired_certs", K_BOOL, 0 },
	{ "allow_smt", K_BOOL, 0 },
	{ "allow_migration_agent", K_BOOL, 0 },
	{ "require_single_socket", K_BOOL, 0 },
	{ "min_abi_major", K_U8, 0 },
	{ "min_abi_minor", K_U8, 0 },
	{ "min_tcb", K_TCB, 0 },
	{ "min_guest_svn", K_U32, 0 },
	{ "vmpl", K_U32, 0 },
	{ "platform_info_require", K_MASK, 0 },
	{ "platform_info_forbid", K_MASK, 0 },
};

static const char *const tcb_keys[] = { "bootloader", "tee", "snp", "microcode", "fmc" };

static int get_mask(const json_t *v, const char *what, uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		return parse_u64(json_string_value(v), UINT64_MAX, out, what);
	return err_set(EINVAL, "%s: expected a number or a \"0x...\" string", what);
}

static int check_int(const json_t *v, const char *what, json_int_t max)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return err_set(EINVAL, "%s: expected an integer 0..%lld", what, (long long)max);
	return 0;
}

static int validate_key(const struct key *k, const json_t *v)
{
	char what[96];
	uint8_t buf[64];
	uint64_t m;
	const char *tk;
	json_t *e;
	size_t i;
	int ret = 0;

	snprintf(what, sizeof(what), "policy: snp.%s", k->name);
	switch (k->kind) {
	case K_HEX:
		return att_policy_hex(v, what, buf, k->len, !strcmp(k->name, "report_data"));
	case K_HEX_LIST:
		if (!json_is_array(v))
			return err_set(EINVAL, "%s: expected an array of hex strings", what);
		json_array_foreach(v, i, e) if ((ret = att_policy_hex(e, what, buf, k->len, false))) return ret;
		return 0;
	case K_BOOL:
		return json_is_boolean(v) ? 0 : err_set(EINVAL, "%s: expected true or false", what);
	case K_U8:
		return check_int(v, what, 255);
	case K_U32:
		return check_int(v, what, UINT32_MAX);
	case K_MASK:
		return get_mask(v, what, &m);
	case K_TCB:
		if (!json_is_object(v))
			return err_set(EINVAL, "%s: expected an object {bootloader, tee, snp, microcode, fmc}", what);
		json_object_foreach((json_t *)v, tk, e) {
			bool known = false;

			for (i = 0; i < ARRAY_SIZE(tcb_keys); i++)
				known |= !strcmp(tk, tcb_keys[i]);
			if (!known)
				return err_set(EINVAL, "%s: unknown component \"%s\"", what, tk);
			snprintf(what, sizeof(what), "policy: snp.min_tcb.%s", tk);
			if ((ret = check_int(e, what, 255)))
				return ret;
		}
		return 0;
	}
	return 0;
}

int snp_policy_validate(const json_t *snp)
{
	const char *name;
	json_t *v;
	int ret;

	if (!snp)
		return 0;
	if (!json_is_object(snp))
		return err_set(EINVAL, "policy: \"snp\" must be an object");
	json_object_foreach((json_t *)snp, name, v) {
		const struct key *k = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strcmp(keys[i].name, name))
				k = &keys[i];
		if (!k)
			return err_set(EINVAL, "policy: unknown key snp.%s (see docs/verify.md)", name);
		if ((ret = validate_key(k, v)))
			return ret;
	}
	return 0;
}

static void check_hex(const json_t *snp, struct att_result *r, const char *key, const uint8_t *field, size_t n)
{
	const json_t *v = json_object_get(snp, key);
	uint8_t want[64];

	if (!v || att_policy_hex(v, key, want, n, !strcmp(key, "report_data")))
		return;
	att_check(r, ATT_POLICY, key, !memcmp(want, field, n), "%s",
		  memcmp(want, field, n) ? "differs from the policy" : "equals the policy");
}

static void check_bit(const json_t *snp, struct att_result *r, const char *key, const char *name,
		      uint64_t policy, uint64_t bit)
{
	const json_t *v = json_object_get(snp, key);

	if (v && json_is_false(v))
		att_check(r, ATT_POLICY, name, !(policy & bit), "guest policy %s %s; the policy forbids it",
			  !(policy & bit) ? "does not allow" : "allows", name);
}

static void check_min_tcb(const json_t *min, const struct snp_report *rep, enum snp_product prod,
			  struct att_result *r)
{
	struct snp_tcb t;
	char bad[200] = "";
	size_t n = 0;

	snp_tcb_decode(rep->reported_tcb, prod, &t);
	const int have[] = { t.bootloader, t.tee, t.snp, t.microcode, t.fmc };
	for (size_t i = 0; i < ARRAY_SIZE(tcb_keys); i++) {
		const json_t *v = json_object_get(min, tcb_keys[i]);

		if (!v || (i == 4 && !t.has_fmc)) /* FMC exists on Turin only */
			continue;
		if (have[i] < json_integer_value(v) && n < sizeof(bad))
			n += (size_t)snprintf(bad + n, sizeof(bad) - n, "%s%s %d < %lld", n ? ", " : "", tcb_keys[i],
					      have[i], (long long)json_integer_value(v));
	}
	att_check(r, ATT_POLICY, "min_tcb", n == 0, "%s", n ? bad : "REPORTED_TCB meets the policy minimum");
}

void snp_policy_check(const json_t *snp, const struct snp_report *rep, enum snp_product prod,
		      struct att_result *r)
{
	const json_t *v;
	struct snp_tcb rt, ct;
	uint64_t mask;

	/* ---- checks that run with or without a policy ---- */
	v = json_object_get(snp, "allow_debug");
	if (!v)
		att_check(r, ATT_ADVISORY, "debug", !(rep->policy & SNP_POLICY_DEBUG), "%s",
			  rep->policy & SNP_POLICY_DEBUG ? "guest policy allows DEBUG: the hypervisor can read guest memory"
							 : "guest policy forbids DEBUG");
	else if (json_is_false(v))
		att_check(r, ATT_POLICY, "debug", !(rep->policy & SNP_POLICY_DEBUG), "%s",
			  rep->policy & SNP_POLICY_DEBUG ? "guest policy allows DEBUG; the policy forbids it"
							 : "guest policy forbids DEBUG");
	else
		att_check(r, ATT_POLICY, "debug", true, "DEBUG %s; the policy allows it",
			  rep->policy & SNP_POLICY_DEBUG ? "allowed" : "forbidden");

	/* A REPORTED_TCB below COMMITTED_TCB means the key that signed the report
	 * belongs to an older firmware than the one installed and committed
	 * (ABI spec 2.2 "TCB Versioning"). */
	snp_tcb_decode(rep->reported_tcb, prod, &rt);
	snp_tcb_decode(rep->committed_tcb, prod, &ct);
	bool tcb_ok = rt.bootloader >= ct.bootloader && rt.tee >= ct.tee && rt.snp >= ct.snp &&
		      rt.microcode >= ct.microcode && rt.fmc >= ct.fmc;
	v = json_object_get(snp, "allow_outdated_tcb");
	att_check(r, v ? ATT_POLICY : ATT_ADVISORY, "tcb_current", tcb_ok || json_is_true(v), "%s%s",
		  tcb_ok ? "REPORTED_TCB is not older than COMMITTED_TCB"
			 : "REPORTED_TCB is older than COMMITTED_TCB: the signing key is for an out-of-date TCB",
		  !tcb_ok && json_is_true(v) ? "; accepted by snp.allow_outdated_tcb" : "");

	if (!snp)
		return;
	/* ---- policy requirements ---- */
	if ((v = json_object_get(snp, "measurements"))) {
		size_t i;
		json_t *e;
		bool found = false;
		uint8_t m[48];

		json_array_foreach(v, i, e) if (!att_policy_hex(e, "measurement", m, 48, false) &&
						!memcmp(m, rep->measurement, 48)) found = true;
		att_check(r, ATT_POLICY, "measurement", found, "%s",
			  found ? "MEASUREMENT is one of the expected values"
				: "MEASUREMENT is not one of the expected values");
	}
	check_hex(snp, r, "report_data", rep->report_data, 64);
	check_hex(snp, r, "host_data", rep->host_data, 32);
	check_hex(snp, r, "id_key_digest", rep->id_key_digest, 48);
	check_hex(snp, r, "author_key_digest", rep->author_key_digest, 48);
	check_hex(snp, r, "family_id", rep->family_id, 16);
	check_hex(snp, r, "image_id", rep->image_id, 16);
	check_hex(snp, r, "chip_id", rep->chip_id, 64);
	check_bit(snp, r, "allow_smt", "smt", rep->policy, SNP_POLICY_SMT);
	check_bit(snp, r, "allow_migration_agent", "migration_agent", rep->policy, SNP_POLICY_MIGRATE_MA);
	if (json_is_true(json_object_get(snp, "require_single_socket")))
		att_check(r, ATT_POLICY, "single_socket", rep->policy & SNP_POLICY_SINGLE_SOCKET,
			  "guest policy %s SINGLE_SOCKET", rep->policy & SNP_POLICY_SINGLE_SOCKET ? "requires" : "does not require");
	if (json_object_get(snp, "min_abi_major") || json_object_get(snp, "min_abi_minor")) {
		/* The guest policy's ABI_MAJOR.ABI_MINOR is the lowest firmware
		 * ABI the launch accepted, so the firmware met it too. */
		unsigned maj = (unsigned)(rep->policy >> 8) & 0xff, min = (unsigned)rep->policy & 0xff;
		json_int_t wmaj = json_integer_value(json_object_get(snp, "min_abi_major"));
		json_int_t wmin = json_integer_value(json_object_get(snp, "min_abi_minor"));
		bool ok = maj > wmaj || (maj == wmaj && min >= wmin);

		att_check(r, ATT_POLICY, "min_abi", ok, "guest policy ABI %u.%u %s %lld.%lld", maj, min,
			  ok ? ">=" : "<", (long long)wmaj, (long long)wmin);
	}
	if ((v = json_object_get(snp, "min_tcb")))
		check_min_tcb(v, rep, prod, r);
	if ((v = json_object_get(snp, "min_guest_svn")))
		att_check(r, ATT_POLICY, "min_guest_svn", rep->guest_svn >= json_integer_value(v),
			  "GUEST_SVN %u, policy minimum %lld", rep->guest_svn, (long long)json_integer_value(v));
	if ((v = json_object_get(snp, "vmpl")))
		att_check(r, ATT_POLICY, "vmpl", rep->vmpl == json_integer_value(v), "VMPL %u, policy %lld",
			  rep->vmpl, (long long)json_integer_value(v));
	if ((v = json_object_get(snp, "platform_info_require")) && !get_mask(v, "platform_info_require", &mask))
		att_check(r, ATT_POLICY, "platform_info_require", (rep->platform_info & mask) == mask,
			  "PLATFORM_INFO 0x%llx, required bits 0x%llx", (unsigned long long)rep->platform_info,
			  (unsigned long long)mask);
	if ((v = json_object_get(snp, "platform_info_forbid")) && !get_mask(v, "platform_info_forbid", &mask))
		att_check(r, ATT_POLICY, "platform_info_forbid", !(rep->platform_info & mask),
			  "PLATFORM_INFO 0x%llx, forbidden bits 0x%llx", (unsigned long long)rep->platform_info,
			  (unsigned long long)mask);
}
