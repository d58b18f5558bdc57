/* policy_snp.c - the "snp" section of the policy (docs/verify.md) and the
 * advisory checks made without one. Guest policy bits: AMD SEV-SNP ABI spec
 * Table 9; PLATFORM_INFO: Table 24; TCB_VERSION: Table 3. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attestation/snp_report.h"
#include "common/common.h"

enum kind { K_HEX, K_HEX_LIST, K_HEX_ANY, K_BOOL, K_U8, K_U32, K_MASK, K_TCB, K_VERSION };

static const struct key {
	const char *name;
	enum kind kind;
	size_t len; /* bytes for hex keys */
} keys[] = {
	{ "measurements", K_HEX_LIST, 48 },
	{ "report_data", K_HEX, 64 },
	{ "host_data", K_HEX_ANY, 32 },
	{ "id_key_digest", K_HEX_ANY, 48 },
	{ "author_key_digest", K_HEX_ANY, 48 },
	{ "family_id", K_HEX_ANY, 16 },
	{ "image_id", K_HEX_ANY, 16 },
	{ "chip_id", K_HEX_ANY, 64 },
	{ "report_id", K_HEX_ANY, 32 },
	{ "report_id_ma", K_HEX_ANY, 32 },
	{ "allow_provisional_firmware", K_BOOL, 0 },
	{ "min_build", K_U8, 0 },
	{ "min_api_version", K_VERSION, 0 },
	{ "min_launch_tcb", K_TCB, 0 },
	{ "min_report_version", K_U32, 0 },
	{ "require_id_block", K_BOOL, 0 },
	{ "require_author_key", K_BOOL, 0 },
	{ "trusted_id_key_digests", K_HEX_LIST, 48 },
	{ "trusted_author_key_digests", K_HEX_LIST, 48 },
	{ "allow_cxl", K_BOOL, 0 },
	{ "require_mem_aes_256_xts", K_BOOL, 0 },
	{ "require_rapl_dis", K_BOOL, 0 },
	{ "require_ciphertext_hiding", K_BOOL, 0 },
	{ "require_page_swap_disable", K_BOOL, 0 },
	{ "require_launch_mit_vector", K_MASK, 0 },
	{ "require_current_mit_vector", K_MASK, 0 },
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
	case K_HEX_ANY: /* one value or a list of accepted values */
		if (json_is_string(v))
			return att_policy_hex(v, what, buf, k->len, false);
		if (!json_array_size(v))
			return err_set(EINVAL, "%s: expected a hex string or a non-empty array of them", what);
		/* fall through */
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
	case K_VERSION: {
		unsigned maj, min;
		char end;

		if (!json_is_string(v) || sscanf(json_string_value(v), "%u.%u%c", &maj, &min, &end) != 2 || maj > 255 ||
		    min > 255)
			return err_set(EINVAL, "%s: expected \"MAJOR.MINOR\" (0..255 each)", what);
		return 0;
	}
	case K_TCB:
		if (!json_is_object(v))
			return err_set(EINVAL, "%s: expected an object {bootloader, tee, snp, microcode, fmc}", what);
		json_object_foreach((json_t *)v, tk, e) {
			bool known = false;

			for (i = 0; i < ARRAY_SIZE(tcb_keys); i++)
				known |= !strcmp(tk, tcb_keys[i]);
			if (!known)
				return err_set(EINVAL, "%s: unknown component \"%s\"", what, tk);
			snprintf(what, sizeof(what), "policy: snp.%s.%s", k->name, tk);
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

/* One hex value or a list of accepted values (docs/verify.md). */
static void check_hex(const json_t *snp, struct att_result *r, const char *key, const uint8_t *field, size_t n)
{
	const json_t *v = json_object_get(snp, key), *e;
	uint8_t want[64];
	bool found = false;
	size_t i;

	if (!v)
		return;
	if (json_is_string(v)) {
		if (att_policy_hex(v, key, want, n, !strcmp(key, "report_data")))
			return;
		found = !memcmp(want, field, n);
		att_check(r, ATT_POLICY, key, found, "%s", found ? "equals the policy" : "differs from the policy");
		return;
	}
	json_array_foreach(v, i, e) if (!att_policy_hex(e, key, want, n, false) && !memcmp(want, field, n)) found = true;
	att_check(r, ATT_POLICY, key, found, "%s the %zu value(s) the policy accepts", found ? "is one of" : "is none of",
		  json_array_size(v));
}

static void check_bit(const json_t *snp, struct att_result *r, const char *key, const char *name,
		      uint64_t policy, uint64_t bit)
{
	const json_t *v = json_object_get(snp, key);

	if (v && json_is_false(v))
		att_check(r, ATT_POLICY, name, !(policy & bit), "guest policy %s %s; the policy forbids it",
			  !(policy & bit) ? "does not allow" : "allows", name);
}

static void check_min_tcb(const json_t *min, uint64_t tcb, const char *name, const char *field,
			  enum snp_product prod, struct att_result *r)
{
	struct snp_tcb t;
	char bad[200] = "";
	size_t n = 0;

	snp_tcb_decode(tcb, prod, &t);
	const int have[] = { t.bootloader, t.tee, t.snp, t.microcode, t.fmc };
	for (size_t i = 0; i < ARRAY_SIZE(tcb_keys); i++) {
		const json_t *v = json_object_get(min, tcb_keys[i]);

		if (!v || (i == 4 && !t.has_fmc)) /* FMC exists on Turin only */
			continue;
		if (have[i] < json_integer_value(v) && n < sizeof(bad))
			n += (size_t)snprintf(bad + n, sizeof(bad) - n, "%s%s %d < %lld", n ? ", " : "", tcb_keys[i],
					      have[i], (long long)json_integer_value(v));
	}
	att_check(r, ATT_POLICY, name, n == 0, "%s%s", n ? bad : field, n ? "" : " meets the policy minimum");
}

static bool tcb_le(const struct snp_tcb *a, const struct snp_tcb *b)
{
	return a->bootloader <= b->bootloader && a->tee <= b->tee && a->snp <= b->snp && a->microcode <= b->microcode &&
	       a->fmc <= b->fmc;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Checks that run on every report: the firmware state is consistent
 * (COMMITTED <= CURRENT; CURRENT above COMMITTED is provisional firmware,
 * which can still be rolled back), the VCEK's TCB (= REPORTED_TCB, bound by
 * vek_tcb) is not above CURRENT_TCB, and what must be zero is. */
static void check_firmware(const json_t *snp, const struct snp_report *rep, enum snp_product prod,
			   struct att_result *r)
{
	const json_t *allow = json_object_get(snp, "allow_provisional_firmware");
	struct snp_tcb cur, com, rtcb;
	unsigned cv = (unsigned)rep->current_major << 16 | (unsigned)rep->current_minor << 8 | rep->current_build;
	unsigned mv = (unsigned)rep->committed_major << 16 | (unsigned)rep->committed_minor << 8 | rep->committed_build;

	snp_tcb_decode(rep->current_tcb, prod, &cur);
	snp_tcb_decode(rep->committed_tcb, prod, &com);
	snp_tcb_decode(rep->reported_tcb, prod, &rtcb);
	if (!tcb_le(&com, &cur) || mv > cv)
		att_check(r, ATT_AUTH, "firmware_consistent", false,
			  "COMMITTED (TCB 0x%016llx, %u.%u.%u) is above CURRENT (TCB 0x%016llx, %u.%u.%u): inconsistent",
			  (unsigned long long)rep->committed_tcb, rep->committed_major, rep->committed_minor,
			  rep->committed_build, (unsigned long long)rep->current_tcb, rep->current_major,
			  rep->current_minor, rep->current_build);
	else if (rep->current_tcb != rep->committed_tcb || cv != mv)
		att_check(r, allow ? ATT_POLICY : ATT_ADVISORY, "firmware_consistent", json_is_true(allow),
			  "provisional firmware: CURRENT (TCB 0x%016llx, %u.%u.%u) is not yet COMMITTED (TCB "
			  "0x%016llx, %u.%u.%u)%s",
			  (unsigned long long)rep->current_tcb, rep->current_major, rep->current_minor, rep->current_build,
			  (unsigned long long)rep->committed_tcb, rep->committed_major, rep->committed_minor,
			  rep->committed_build, json_is_true(allow) ? "; accepted by snp.allow_provisional_firmware" : "");
	else
		att_check(r, allow ? ATT_POLICY : ATT_ADVISORY, "firmware_consistent", true,
			  "CURRENT = COMMITTED (TCB 0x%016llx, firmware %u.%u.%u)", (unsigned long long)rep->current_tcb,
			  rep->current_major, rep->current_minor, rep->current_build);
	att_check(r, ATT_AUTH, "vek_tcb_current", tcb_le(&rtcb, &cur), "REPORTED_TCB (the VCEK/VLEK's TCB) %s CURRENT_TCB",
		  tcb_le(&rtcb, &cur) ? "is not above" : "is above");

	/* Guest policy: bit 17 is reserved as 1, bits 63:26 as 0 (ABI Table 9). */
	bool pol_ok = (rep->policy & SNP_POLICY_RESERVED1) && !(rep->policy & SNP_POLICY_RESERVED_HIGH);
	att_check(r, ATT_POLICY, "guest_policy_reserved", pol_ok, "guest policy 0x%llx: %s",
		  (unsigned long long)rep->policy,
		  pol_ok ? "bit 17 is 1 and bits 63:26 are 0" : "a reserved bit has the wrong value (bit 17 must be 1, 63:26 0)");

	/* Reserved report fields (ABI Table 23) are zero. */
	static const struct {
		size_t off, len;
		unsigned min_ver, max_ver;
	} res[] = {
		{ 0x4C, 4, 2, 5 },   { 0x188, 24, 2, 2 }, { 0x18B, 21, 3, 5 }, { 0x1EB, 1, 2, 5 },
		{ 0x1EF, 1, 2, 5 },  { 0x1F8, 168, 2, 4 }, { 0x208, 152, 5, 5 },
	};
	char bad[128] = "";
	for (size_t i = 0; i < ARRAY_SIZE(res); i++)
		if (rep->version >= res[i].min_ver && rep->version <= res[i].max_ver && !bad[0] &&
		    !is_zero(rep->raw + res[i].off, res[i].len))
			snprintf(bad, sizeof(bad), "reserved bytes 0x%zx..0x%zx are not zero", res[i].off,
				 res[i].off + res[i].len - 1);
	if (!bad[0] && (rep->flags >> 5))
		snprintf(bad, sizeof(bad), "reserved FLAGS bits 31:5 are not zero (0x%x)", rep->flags);
	att_check(r, ATT_POLICY, "report_reserved", !bad[0], "%s", bad[0] ? bad : "reserved fields are zero");
}

static void check_firmware_policy(const json_t *snp, const struct snp_report *rep, struct att_result *r)
{
	const json_t *v;

	if ((v = json_object_get(snp, "min_build"))) {
		bool ok = rep->current_build >= json_integer_value(v) && rep->committed_build >= json_integer_value(v);

		att_check(r, ATT_POLICY, "min_build", ok, "CURRENT_BUILD %u, COMMITTED_BUILD %u, policy minimum %lld",
			  rep->current_build, rep->committed_build, (long long)json_integer_value(v));
	}
	if ((v = json_object_get(snp, "min_api_version"))) {
		unsigned maj = 0, min = 0;

		sscanf(json_string_value(v), "%u.%u", &maj, &min);
		unsigned want = maj << 8 | min;
		bool ok = ((unsigned)rep->current_major << 8 | rep->current_minor) >= want &&
			  ((unsigned)rep->committed_major << 8 | rep->committed_minor) >= want;
		att_check(r, ATT_POLICY, "min_api_version", ok, "CURRENT %u.%u, COMMITTED %u.%u, policy minimum %u.%u",
			  rep->current_major, rep->current_minor, rep->committed_major, rep->committed_minor, maj, min);
	}
}

static bool in_list(const json_t *list, const uint8_t *d)
{
	const json_t *e;
	uint8_t want[48];
	size_t i;

	json_array_foreach(list, i, e) if (!att_policy_hex(e, "digest", want, 48, false) && !memcmp(want, d, 48)) return true;
	return false;
}

/* The ID block (SNP_LAUNCH_FINISH): ID_KEY_DIGEST is the key that signed
 * it, AUTHOR_KEY_DIGEST the key that signed that key (AUTHOR_KEY_EN). */
static void check_id_block(const json_t *snp, const struct snp_report *rep, struct att_result *r)
{
	const json_t *ids = json_object_get(snp, "trusted_id_key_digests");
	const json_t *authors = json_object_get(snp, "trusted_author_key_digests");
	bool author_en = rep->flags & 1;

	if (json_is_true(json_object_get(snp, "require_id_block")))
		att_check(r, ATT_POLICY, "id_block", !is_zero(rep->id_key_digest, 48), "%s",
			  is_zero(rep->id_key_digest, 48) ? "launched without an ID block (ID_KEY_DIGEST is zero)"
							  : "launched with an ID block");
	if (json_is_true(json_object_get(snp, "require_author_key")))
		att_check(r, ATT_POLICY, "author_key", author_en && !is_zero(rep->author_key_digest, 48), "%s",
			  author_en && !is_zero(rep->author_key_digest, 48)
				  ? "the ID key is signed by an author key (AUTHOR_KEY_EN)"
				  : "no author key (AUTHOR_KEY_EN is 0 or AUTHOR_KEY_DIGEST zero)");
	if (ids || authors) {
		bool id_ok = ids && !is_zero(rep->id_key_digest, 48) && in_list(ids, rep->id_key_digest);
		bool au_ok = authors && author_en && in_list(authors, rep->author_key_digest);

		att_check(r, ATT_POLICY, "id_key_trusted", id_ok || au_ok, "%s",
			  id_ok ? "ID_KEY_DIGEST is a trusted ID key"
			  : au_ok ? "AUTHOR_KEY_DIGEST is a trusted author key"
				  : "neither ID_KEY_DIGEST nor AUTHOR_KEY_DIGEST is among the trusted keys");
	}
}

static const struct {
	const char *name, *key;
	uint64_t bit;
	bool require; /* key true: bit must be 1 (else: key false forbids) */
} policy_bits[] = {
	{ "SMT", NULL, SNP_POLICY_SMT, false },
	{ "MIGRATE_MA", NULL, SNP_POLICY_MIGRATE_MA, false },
	{ "DEBUG", NULL, SNP_POLICY_DEBUG, false },
	{ "SINGLE_SOCKET", NULL, SNP_POLICY_SINGLE_SOCKET, true },
	{ "CXL_ALLOW", "allow_cxl", SNP_POLICY_CXL_ALLOW, false },
	{ "MEM_AES_256_XTS", "require_mem_aes_256_xts", SNP_POLICY_MEM_AES_256_XTS, true },
	{ "RAPL_DIS", "require_rapl_dis", SNP_POLICY_RAPL_DIS, true },
	{ "CIPHERTEXT_HIDING", "require_ciphertext_hiding", SNP_POLICY_CIPHERTEXT_HIDING, true },
	{ "PAGE_SWAP_DISABLE", "require_page_swap_disable", SNP_POLICY_PAGE_SWAP_DISABLE, true },
};

static void check_policy_bits(const json_t *snp, const struct snp_report *rep, struct att_result *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(policy_bits); i++) {
		const json_t *v = policy_bits[i].key ? json_object_get(snp, policy_bits[i].key) : NULL;
		bool set = rep->policy & policy_bits[i].bit;
		char name[40];

		if (!v)
			continue;
		snprintf(name, sizeof(name), "policy_%s", policy_bits[i].key);
		if (policy_bits[i].require && json_is_true(v))
			att_check(r, ATT_POLICY, name, set, "guest policy %s %s; the policy requires it",
				  policy_bits[i].name, set ? "set" : "clear");
		else if (!policy_bits[i].require && json_is_false(v))
			att_check(r, ATT_POLICY, name, !set, "guest policy %s %s; the policy forbids it",
				  policy_bits[i].name, set ? "set" : "clear");
	}
}

static void check_mit_vectors(const json_t *snp, const struct snp_report *rep, struct att_result *r)
{
	static const char *const keys[] = { "require_launch_mit_vector", "require_current_mit_vector" };
	const uint64_t have[] = { rep->launch_mit_vector, rep->current_mit_vector };
	uint64_t mask;

	for (int i = 0; i < 2; i++) {
		const json_t *v = json_object_get(snp, keys[i]);

		if (!v || get_mask(v, keys[i], &mask))
			continue;
		if (rep->version < 5)
			att_check(r, ATT_POLICY, keys[i] + 8, false, "report version %u has no mitigation vectors (v5+)",
				  rep->version);
		else
			att_check(r, ATT_POLICY, keys[i] + 8, (have[i] & mask) == mask,
				  "%s 0x%llx, required bits 0x%llx", i ? "CURRENT_MIT_VECTOR" : "LAUNCH_MIT_VECTOR",
				  (unsigned long long)have[i], (unsigned long long)mask);
	}
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

	check_firmware(snp, rep, prod, r);
	if (r->claims) {
		json_t *bits = json_array();

		for (size_t i = 0; i < ARRAY_SIZE(policy_bits); i++)
			if (rep->policy & policy_bits[i].bit)
				json_array_append_new(bits, json_string(policy_bits[i].name));
		json_object_set_new(r->claims, "policy_bits", bits);
	}

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
		check_min_tcb(v, rep->reported_tcb, "min_tcb", "REPORTED_TCB", prod, r);
	if ((v = json_object_get(snp, "min_launch_tcb")))
		check_min_tcb(v, rep->launch_tcb, "min_launch_tcb", "LAUNCH_TCB", prod, r);
	check_hex(snp, r, "report_id", rep->report_id, 32);
	check_hex(snp, r, "report_id_ma", rep->report_id_ma, 32);
	check_firmware_policy(snp, rep, r);
	check_id_block(snp, rep, r);
	check_policy_bits(snp, rep, r);
	check_mit_vectors(snp, rep, r);
	if ((v = json_object_get(snp, "min_report_version")))
		att_check(r, ATT_POLICY, "min_report_version", rep->version >= json_integer_value(v),
			  "report VERSION %u, policy minimum %lld", rep->version, (long long)json_integer_value(v));
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
