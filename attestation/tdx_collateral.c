/* tdx_collateral.c - TDX collateral as Intel PCS serves it (PCS API v4):
 * TCB info (GET /tdx/certification/v4/tcb, {"tcbInfo":{...},"signature"})
 * and the TD quoting enclave identity (GET /tdx/certification/v4/qe/identity,
 * {"enclaveIdentity":{...},"signature"}). Evaluation follows Intel's
 * "TDX TCB info / QE identity" documentation and the DCAP quote verification
 * flow as Intel's Quote Verification Library implements it (QVL
 * QuoteVerifier 4.1.2.4.x, checkTcbLevel, TdxModuleCheck, TDRelaunchCheck;
 * google/go-tdx-guest verify.go agrees on the level matching): the PCK
 * certificate's FMSPC/PCE-ID select the TCB info, the first TCB level whose
 * SGX components and PCESVN are <= the PCK certificate's and whose TDX
 * components are <= TEE_TCB_SVN gives the status; the TDX module identity
 * (TEE_TCB_SVN[1] = module major version, [0] = module SVN) and the QE
 * identity's ISVSVN give statuses that converge with it.
 *
 * The JSON signatures are by the Intel TCB Signing certificate, which PCS
 * sends in an HTTP header (TCB-Info-Issuer-Chain), not in the body. When the
 * collateral directory holds it as tcb_signing_chain.pem the signatures are
 * verified (chain to the trusted root, ECDSA P-256 over the exact bytes of
 * the signed member); otherwise the check is recorded as advisory
 * "not checked: no signing chain". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attestation/tdx_quote.h"
#include "common/common.h"

struct collateral {
	const char *file;  /* for messages: "tcbinfo.json" */
	uint8_t *text;
	size_t len;
	json_t *doc;
	json_t *body;      /* the signed member (tcbInfo / enclaveIdentity) */
};

static int load(const char *dir, const char *file, const char *member, struct collateral *c, bool *present)
{
	char path[4096];
	json_error_t je;

	memset(c, 0, sizeof(*c));
	c->file = file;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	*present = access(path, F_OK) == 0;
	if (!*present)
		return 0;
	if (file_read(path, 4u << 20, &c->text, &c->len))
		return -EIO;
	c->doc = json_loadb((const char *)c->text, c->len, 0, &je);
	if (!c->doc)
		return err_set(EINVAL, "%s: line %d: %s", path, je.line, je.text);
	c->body = json_object_get(c->doc, member);
	if (!json_is_object(c->body))
		return err_set(EINVAL, "%s: no \"%s\" object", path, member);
	return 0;
}

static void unload(struct collateral *c)
{
	json_decref(c->doc);
	free(c->text);
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* "2023-06-18T08:42:58Z" (RFC 3339, UTC) */
static int parse_time(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	const char *end;

	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*end == '.') /* optional fraction */
		while (*++end >= '0' && *end <= '9')
			;
	if (strcmp(end, "Z") && strcmp(end, "+00:00"))
		return -1;
	*t = timegm(&tm);
	return 0;
}

static int hex_field(const json_t *o, const char *k, uint8_t *out, size_t n, const char *file)
{
	char what[96];

	snprintf(what, sizeof(what), "%s: %s", file, k);
	if (!jstr(o, k))
		return err_set(EINVAL, "%s: missing", what);
	return hex_decode_exact(jstr(o, k), out, n, what);
}

static void check_fresh(struct collateral *c, time_t at, const char *name, const json_t *policy,
			struct att_result *r)
{
	time_t issue, next;
	const char *is = jstr(c->body, "issueDate"), *nu = jstr(c->body, "nextUpdate");

	if (parse_time(is, &issue) || parse_time(nu, &next)) {
		att_check(r, ATT_ADVISORY, name, false, "%s: issueDate/nextUpdate missing or malformed", c->file);
		return;
	}
	if (at < issue)
		att_check(r, ATT_ADVISORY, name, false, "%s: issued %s, next update %s: not yet issued", c->file, is, nu);
	else
		att_check_fresh(r, policy, name, at, next, c->file);
}

/* The signed bytes are the member's text exactly as served: the body is
 * {"<member>":<signed>,"signature":"<hex>"}. Take that span and require it to
 * parse to the very object we evaluate, so what is verified is what is used. */
static void check_signature(struct collateral *c, const char *member, STACK_OF(X509) *signer, const char *name,
			    struct att_result *r)
{
	char prefix[64], suffix[200];
	const char *sig_hex = jstr(c->doc, "signature");
	uint8_t sig[64];
	size_t len = c->len, plen;
	json_t *span;
	bool same;

	if (!signer) {
		att_check(r, ATT_ADVISORY, name, false, "not checked: no signing chain (tcb_signing_chain.pem / qe_identity_chain.pem)");
		return;
	}
	while (len && (c->text[len - 1] == '\n' || c->text[len - 1] == '\r' || c->text[len - 1] == ' '))
		len--;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "{\"%s\":", member);
	if (!sig_hex || strlen(sig_hex) != 128 || hex_decode_exact(sig_hex, sig, 64, "signature")) {
		att_check(r, ATT_AUTH, name, false, "%s: signature missing or not 64 hex bytes", c->file);
		return;
	}
	snprintf(suffix, sizeof(suffix), ",\"signature\":\"%s\"}", sig_hex);
	if (len < plen + strlen(suffix) || memcmp(c->text, prefix, plen) ||
	    memcmp(c->text + len - strlen(suffix), suffix, strlen(suffix))) {
		att_check(r, ATT_AUTH, name, false, "%s: not in the form PCS signs ({\"%s\":...,\"signature\":...})",
			  c->file, member);
		return;
	}
	span = json_loadb((const char *)c->text + plen, len - plen - strlen(suffix), 0, NULL);
	same = span && json_equal(span, c->body);
	json_decref(span);
	if (!same) {
		att_check(r, ATT_AUTH, name, false, "%s: signed bytes do not match the parsed %s", c->file, member);
		return;
	}
	att_check(r, ATT_AUTH, name,
		  tdx_ecdsa_verify_pkey(X509_get0_pubkey(sk_X509_value(signer, 0)), sig, c->text + plen,
					len - plen - strlen(suffix)) == 1,
		  "%s: ECDSA P-256 signature by the TCB signing certificate", c->file);
}

/* One TCB level of a TDX TCB info v3, read once: SVNs as bytes (the PCK
 * certificate's and the TD report's are bytes too), its index for messages. */
struct level {
	const json_t *j;
	size_t idx;
	uint8_t sgx[16], tdx[16];
	uint16_t pcesvn;
};

static int svn_array(const json_t *tcb, const char *key, uint8_t out[16])
{
	const json_t *arr = json_object_get(tcb, key), *v;

	if (json_array_size(arr) != 16)
		return -1;
	for (size_t i = 0; i < 16; i++) {
		v = json_object_get(json_array_get(arr, i), "svn");
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
			return -1;
		out[i] = (uint8_t)json_integer_value(v);
	}
	return 0;
}

/* Intel's QVL keeps TCB levels in a set ordered by (SGX components, then
 * PCESVN, or TDX components when the PCESVNs are equal), highest first; the
 * walk and the "latest level" of the relaunch check use that order, so a
 * TCB info listing its levels in another order is judged the same. */
static int level_cmp(const void *a, const void *b)
{
	const struct level *x = a, *y = b;
	int c = memcmp(y->sgx, x->sgx, 16);

	if (!c)
		c = x->pcesvn != y->pcesvn ? (int)y->pcesvn - (int)x->pcesvn : memcmp(y->tdx, x->tdx, 16);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int read_levels(const json_t *levels, const char *file, struct level **out, size_t *n)
{
	struct level *l;
	const json_t *lvl;
	size_t i;

	*out = NULL;
	*n = json_array_size(levels);
	if (!*n)
		return err_set(EINVAL, "%s: no tcbLevels", file);
	l = calloc(*n, sizeof(*l));
	if (!l)
		return err_set(ENOMEM, "%s: out of memory", file);
	json_array_foreach(levels, i, lvl) {
		const json_t *tcb = json_object_get(lvl, "tcb"), *pce = json_object_get(tcb, "pcesvn");

		l[i].j = lvl;
		l[i].idx = i;
		if (svn_array(tcb, "sgxtcbcomponents", l[i].sgx) || svn_array(tcb, "tdxtcbcomponents", l[i].tdx) ||
		    !json_is_integer(pce) || json_integer_value(pce) < 0 || json_integer_value(pce) > 65535 ||
		    !jstr(lvl, "tcbStatus")) {
			free(l);
			return err_set(EINVAL, "%s: tcbLevels[%zu]: needs 16 sgxtcbcomponents and 16 "
				       "tdxtcbcomponents (svn 0..255), pcesvn and tcbStatus", file, i);
		}
		l[i].pcesvn = (uint16_t)json_integer_value(pce);
	}
	qsort(l, *n, sizeof(*l), level_cmp);
	*out = l;
	return 0;
}

/* First component i >= start with have[i] < need[i], or -1. */
static int below(const uint8_t *have, const uint8_t *need, int start)
{
	for (int i = start; i < 16; i++)
		if (have[i] < need[i])
			return i;
	return -1;
}

/* MRSIGNER and attributes of an identity vs the quote's SEAM values. */
static bool seam_identity_ok(const json_t *id, const struct tdx_quote *q, const char *file)
{
	uint8_t mrsigner[48], attr[8], mask[8];

	if (hex_field(id, "mrsigner", mrsigner, 48, file) || hex_field(id, "attributes", attr, 8, file) ||
	    hex_field(id, "attributesMask", mask, 8, file))
		return false;
	if (memcmp(mrsigner, q->body + TDX_B_MRSIGNERSEAM, 48))
		return false;
	for (int i = 0; i < 8; i++)
		if ((q->body[TDX_B_SEAM_ATTRIBUTES + i] & mask[i]) != attr[i])
			return false;
	return true;
}

/* The identity "TDX_<major as 2 hex digits>" of tdxModuleIdentities; QVL
 * upper-cases the JSON id before comparing, so the case does not matter. */
static const json_t *find_module_identity(const json_t *ti, uint8_t major)
{
	char want[16];
	const json_t *id;
	size_t i;

	snprintf(want, sizeof(want), "TDX_%02X", major);
	json_array_foreach(json_object_get(ti, "tdxModuleIdentities"), i, id)
		if (jstr(id, "id") && !strcasecmp(jstr(id, "id"), want))
			return id;
	return NULL;
}

/* The TDX module (QVL 4.1.2.4.11 and 4.1.2.4.17.4.1). TEE_TCB_SVN[1] is the
 * module's major version, [0] its SVN. Major 0: the tdxModule entry's
 * MRSIGNER/attributes must match and the module adds nothing to the status.
 * Major > 0: the identity TDX_<major> must exist (else the module is not one
 * Intel describes: auth failure), match, and its first TCB level with
 * isvsvn <= TEE_TCB_SVN[0] gives the module status (none: NotSupported). */
static const char *tdx_module_status(const json_t *ti, const struct tdx_quote *q, const char *file, struct att_result *r)
{
	const uint8_t *svn = q->body + TDX_B_TEE_TCB_SVN;
	const json_t *id, *lvl;
	size_t i;

	if (svn[1] == 0) {
		id = json_object_get(ti, "tdxModule");
		att_check(r, ATT_AUTH, "tdx.tcb_info.tdx_module", json_is_object(id) && seam_identity_ok(id, q, file),
			  "MRSIGNERSEAM/SEAM attributes vs %s tdxModule", file);
		return "UpToDate";
	}
	id = find_module_identity(ti, svn[1]);
	if (!id) {
		att_check(r, ATT_AUTH, "tdx.tcb_info.tdx_module", false,
			  "%s: no tdxModuleIdentities entry TDX_%02X for the module's major version (TEE_TCB_SVN[1])",
			  file, svn[1]);
		return "NotSupported";
	}
	att_check(r, ATT_AUTH, "tdx.tcb_info.tdx_module", seam_identity_ok(id, q, file),
		  "MRSIGNERSEAM/SEAM attributes vs %s %s", file, jstr(id, "id"));
	json_array_foreach(json_object_get(id, "tcbLevels"), i, lvl) {
		json_t *isvsvn = json_object_get(json_object_get(lvl, "tcb"), "isvsvn");

		if (json_is_integer(isvsvn) && json_integer_value(isvsvn) <= svn[0])
			return jstr(lvl, "tcbStatus") ? jstr(lvl, "tcbStatus") : "NotSupported";
	}
	return "NotSupported";
}

static bool is(const char *s, const char *a) { return s && !strcmp(s, a); }

static bool config_needed(const char *s)
{
	return is(s, "ConfigurationNeeded") || is(s, "OutOfDateConfigurationNeeded") ||
	       is(s, "ConfigurationAndSWHardeningNeeded") || is(s, "TDRelaunchAdvisedConfigurationNeeded");
}

/* Converge the platform's status with the TDX module's (QVL
 * convergeTcbStatusWithTdxModuleStatus) or the QE's (...WithQeTcbStatus):
 * an out-of-date module/QE makes an up-to-date or SW-hardening-needed
 * platform OutOfDate and a configuration-needed one
 * OutOfDateConfigurationNeeded; a revoked one makes it Revoked, one with no
 * matching level NotSupported. Any QE status other than UpToDate, Revoked
 * and NotSupported counts as out of date (QVL's EnclaveReportVerifier). */
static const char *converge(const char *platform, const char *other)
{
	if (is(other, "UpToDate"))
		return platform;
	if (is(other, "Revoked") || is(other, "NotSupported"))
		return other;
	if (is(platform, "UpToDate") || is(platform, "SWHardeningNeeded"))
		return "OutOfDate";
	if (is(platform, "ConfigurationNeeded") || is(platform, "ConfigurationAndSWHardeningNeeded"))
		return "OutOfDateConfigurationNeeded";
	return platform;
}

/* TDX 1.5 quotes (body type 3) carry TEE_TCB_SVN2, the SVNs of the module
 * the TD would get if relaunched now. When only the TDX module is out of
 * date and TEE_TCB_SVN2 reaches the latest TCB level, relaunching the TD
 * fixes it: TDRelaunchAdvised[ConfigurationNeeded] (QVL TDRelaunchCheck,
 * 4.1.2.4.17.4.3). The QE status here is the QE identity's or NULL. */
static const char *relaunch(const struct tdx_quote *q, const json_t *ti, const struct level *latest, const char *sgx_st,
			    const char *tdx_st, const char *mod_st, const char *qe_st, const char *file,
			    struct att_result *r)
{
	const uint8_t *svn2 = q->body + TDX_B_TEE_TCB_SVN2;
	const json_t *id, *lvl, *isvsvn;
	bool ok;

	if (q->body_type != TDX_BODY_TYPE_TD15 || q->body_len < TDX_B_TEE_TCB_SVN2 + 16 ||
	    (qe_st && !is(qe_st, "UpToDate")) ||
	    !(is(sgx_st, "UpToDate") || is(sgx_st, "SWHardeningNeeded") || is(sgx_st, "ConfigurationNeeded") ||
	      is(sgx_st, "ConfigurationAndSWHardeningNeeded")) ||
	    !(is(tdx_st, "OutOfDate") || is(tdx_st, "OutOfDateConfigurationNeeded")) || !is(mod_st, "OutOfDate"))
		return tdx_st;
	if (svn2[1] == 0) {
		ok = svn2[0] >= latest->tdx[0] && svn2[2] >= latest->tdx[2];
	} else {
		id = find_module_identity(ti, svn2[1]);
		if (!att_check(r, ATT_AUTH, "tdx.tcb_info.tdx_module2", id,
			       "%s: tdxModuleIdentities entry for TEE_TCB_SVN2[1] = %u", file, svn2[1]))
			return "NotSupported";
		lvl = json_array_get(json_object_get(id, "tcbLevels"), 0);
		isvsvn = json_object_get(json_object_get(lvl, "tcb"), "isvsvn");
		if (!json_is_integer(isvsvn))
			return "NotSupported";
		ok = svn2[0] >= json_integer_value(isvsvn) && svn2[2] >= latest->tdx[2];
	}
	if (!ok)
		return tdx_st;
	return config_needed(sgx_st) || config_needed(tdx_st) ? "TDRelaunchAdvisedConfigurationNeeded"
							      : "TDRelaunchAdvised";
}

static void svn_text(const uint8_t *v, char out[64])
{
	int n = 16;

	while (n > 1 && !v[n - 1])
		n--;
	out[0] = 0;
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), 64 - strlen(out), "%s%u", i ? "," : "", v[i]);
}

/* TCB info (QVL checkTcbLevel, 4.1.2.4.17): the first level (in the order
 * above) whose SGX components and PCESVN are <= the PCK certificate's is the
 * SGX level; the first such level whose TDX components are also <=
 * TEE_TCB_SVN (from index 2 when TEE_TCB_SVN[1] > 0: the module's own SVNs
 * are judged by its identity) is the TDX level, and gives the status. No SGX
 * or no TDX level: NotSupported. Then the module's status converges in and
 * the relaunch check may apply (it needs the QE's status qe_st, or NULL; the
 * caller converges that in last). Returns the status (borrowed from the JSON
 * or a literal) or NULL after recording why none can be given. */
static const char *eval_tcb_info(struct collateral *c, const struct tdx_quote *q, const struct tdx_pck_ext *ext,
				 const char *qe_st, struct att_result *r)
{
	const json_t *ti = c->body;
	const uint8_t *svn = q->body + TDX_B_TEE_TCB_SVN;
	const struct level *sgx_l = NULL, *tdx_l = NULL;
	struct level *lv;
	uint8_t fmspc[6], pceid[2];
	json_t *ver = json_object_get(ti, "version");
	const char *id = jstr(ti, "id"), *st, *mod;
	char have[64], need[64];
	size_t n;
	int start = svn[1] > 0 ? 2 : 0, k;

	/* QVL 4.1.2.4.9: a TDX quote needs TDX TCB info, which is version 3
	 * with id "TDX" (version 2 describes SGX platforms only). */
	if (!json_is_integer(ver) || json_integer_value(ver) != 3 || !id || strcmp(id, "TDX")) {
		att_check(r, ATT_AUTH, "tdx.tcb_info", false, "%s: not TDX TCB info (version 3, id \"TDX\")", c->file);
		return NULL;
	}
	/* QVL: TDX TCB info is of tcbType 0 (SVN-by-component comparison). */
	if (json_object_get(ti, "tcbType") &&
	    !att_check(r, ATT_AUTH, "tdx.tcb_type", json_is_integer(json_object_get(ti, "tcbType")) &&
						     json_integer_value(json_object_get(ti, "tcbType")) == 0,
		       "%s: tcbType %s (0 expected)", c->file,
		       json_is_integer(json_object_get(ti, "tcbType")) ? "is set" : "is malformed"))
		return NULL;
	if (json_is_integer(json_object_get(ti, "tcbEvaluationDataNumber")))
		json_object_set(r->claims, "tcb_evaluation_data_number", json_object_get(ti, "tcbEvaluationDataNumber"));
	if (hex_field(ti, "fmspc", fmspc, 6, c->file) || hex_field(ti, "pceId", pceid, 2, c->file) ||
	    read_levels(json_object_get(ti, "tcbLevels"), c->file, &lv, &n)) {
		att_check(r, ATT_AUTH, "tdx.tcb_info", false, "%s", err_msg());
		return NULL;
	}
	if (!att_check(r, ATT_AUTH, "tdx.tcb_info", !memcmp(fmspc, ext->fmspc, 6) && !memcmp(pceid, ext->pceid, 2),
		       "%s: FMSPC %s / PCE-ID %s vs PCK certificate", c->file, jstr(ti, "fmspc"), jstr(ti, "pceId"))) {
		free(lv);
		return NULL;
	}
	for (size_t i = 0; i < n && !tdx_l; i++) {
		if (below(ext->comp_svn, lv[i].sgx, 0) >= 0 || ext->pcesvn < lv[i].pcesvn)
			continue;
		if (!sgx_l)
			sgx_l = &lv[i];
		if (below(svn, lv[i].tdx, start) < 0)
			tdx_l = &lv[i];
	}
	if (!sgx_l) {
		svn_text(ext->comp_svn, have);
		svn_text(lv[0].sgx, need);
		k = below(ext->comp_svn, lv[0].sgx, 0);
		att_check(r, ATT_ADVISORY, "tdx.tcb_level", false,
			  "%s: no level's SGX TCB is met by the PCK certificate's (components %s, PCESVN %u; the latest "
			  "level needs %s, PCESVN %u%s%d): NotSupported", c->file, have, ext->pcesvn, need,
			  lv[0].pcesvn, k >= 0 ? "; first short: component " : "", k + 1);
		free(lv);
		return "NotSupported";
	}
	if (!tdx_l) {
		k = below(svn, sgx_l->tdx, start);
		att_check(r, ATT_ADVISORY, "tdx.tcb_level", false,
			  "%s: TEE_TCB_SVN is below the TDX TCB of every level meeting the SGX TCB (the first, "
			  "tcbLevels[%zu], needs TEE_TCB_SVN[%d] >= %u, the quote has %u): NotSupported", c->file,
			  sgx_l->idx, k, k >= 0 ? sgx_l->tdx[k] : 0, k >= 0 ? svn[k] : 0);
		free(lv);
		return "NotSupported";
	}
	st = jstr(tdx_l->j, "tcbStatus");
	att_check(r, ATT_ADVISORY, "tdx.tcb_level", true, "%s: tcbLevels[%zu] of %s: %s", c->file, tdx_l->idx,
		  jstr(tdx_l->j, "tcbDate") ? jstr(tdx_l->j, "tcbDate") : "?", st);
	if (json_object_get(tdx_l->j, "advisoryIDs"))
		json_object_set(r->claims, "advisory_ids", json_object_get(tdx_l->j, "advisoryIDs"));
	if (jstr(tdx_l->j, "tcbDate"))
		json_object_set_new(r->claims, "tcb_date", json_string(jstr(tdx_l->j, "tcbDate")));
	mod = tdx_module_status(ti, q, c->file, r);
	json_object_set_new(r->claims, "tdx_module_tcb_status", json_string(mod));
	st = converge(st, mod);
	if (!is(st, "Revoked") && !is(st, "NotSupported"))
		st = relaunch(q, ti, &lv[0], jstr(sgx_l->j, "tcbStatus"), st, mod, qe_st, c->file, r);
	free(lv);
	return st;
}

/* QE identity (QVL EnclaveReportVerifier, 4.1.2.9): the QE report must come
 * from Intel's TD quoting enclave: identity version 2, id TD_QE; the report's
 * MISCSELECT and ATTRIBUTES under the identity's masks equal the identity's
 * values, MRSIGNER and ISVPRODID equal; the first level with isvsvn <= the
 * report's ISVSVN gives the QE status (none: NotSupported). MISCSELECT's hex
 * is in the report's byte order (QVL and go-tdx-guest read both the same way). */
static const char *eval_qe_identity(struct collateral *c, const struct tdx_quote *q, struct att_result *r)
{
	const json_t *qi = c->body, *lvl;
	const uint8_t *rep = q->qe_report;
	uint8_t mrsigner[32], misc[4], misc_mask[4], attr[16], attr_mask[16];
	json_t *prodid = json_object_get(qi, "isvprodid"), *ver = json_object_get(qi, "version");
	bool ok;
	size_t i;

	if (!jstr(qi, "id") || strcmp(jstr(qi, "id"), "TD_QE") || !json_is_integer(ver) ||
	    json_integer_value(ver) != 2) {
		att_check(r, ATT_AUTH, "tdx.qe_identity", false,
			  "%s: not the TDX quoting enclave's identity (version 2, id TD_QE)", c->file);
		return NULL;
	}
	if (hex_field(qi, "mrsigner", mrsigner, 32, c->file) || hex_field(qi, "miscselect", misc, 4, c->file) ||
	    hex_field(qi, "miscselectMask", misc_mask, 4, c->file) || hex_field(qi, "attributes", attr, 16, c->file) ||
	    hex_field(qi, "attributesMask", attr_mask, 16, c->file) || !json_is_integer(prodid)) {
		att_check(r, ATT_AUTH, "tdx.qe_identity", false, "%s: malformed (%s)", c->file, err_msg());
		return NULL;
	}
	ok = !memcmp(mrsigner, rep + SGX_R_MRSIGNER, 32) && json_integer_value(prodid) == le16(rep + SGX_R_ISVPRODID);
	for (int k = 0; k < 4; k++)
		ok = ok && (rep[SGX_R_MISCSELECT + k] & misc_mask[k]) == misc[k];
	for (int k = 0; k < 16; k++)
		ok = ok && (rep[SGX_R_ATTRIBUTES + k] & attr_mask[k]) == attr[k];
	if (!att_check(r, ATT_AUTH, "tdx.qe_identity", ok, "QE report MRSIGNER/ISVPRODID/MISCSELECT/ATTRIBUTES vs %s",
		       c->file))
		return NULL;
	json_array_foreach(json_object_get(qi, "tcbLevels"), i, lvl) {
		json_t *isvsvn = json_object_get(json_object_get(lvl, "tcb"), "isvsvn");

		if (json_is_integer(isvsvn) && json_integer_value(isvsvn) <= le16(rep + SGX_R_ISVSVN))
			return jstr(lvl, "tcbStatus") ? jstr(lvl, "tcbStatus") : "NotSupported";
	}
	return "NotSupported";
}

/* The issuer chain PCS sent with a document (fetch-certs saves it next to
 * it), verified to the trusted root. *signer stays NULL when absent or bad. */
static int load_signer(const char *dir, const char *file, X509 *root, time_t at, const char *name,
		       STACK_OF(X509) **signer, struct att_result *r)
{
	char path[4096], detail[256];
	STACK_OF(X509_CRL) *crls = NULL;
	X509_CRL *rootcrl;
	uint8_t *pem;
	size_t len;
	bool stale = false;
	int ret;

	*signer = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (access(path, F_OK))
		return 0;
	if ((ret = file_read(path, 1u << 20, &pem, &len)))
		return ret;
	ret = tdx_pck_chain_load(pem, len, signer);
	free(pem);
	if (ret)
		return err_wrap(-ret, "%s", path);
	/* The TCB signing certificate is issued by the root CA: the root CRL
	 * revokes it like any other (DCAP QVL checks it too). */
	snprintf(path, sizeof(path), "%s/rootcrl.der", dir);
	if (!access(path, F_OK)) {
		if (!(rootcrl = tdx_crl_load(path))) {
			sk_X509_pop_free(*signer, X509_free);
			*signer = NULL;
			return -EINVAL;
		}
		if (!(crls = sk_X509_CRL_new_null()) || !sk_X509_CRL_push(crls, rootcrl)) {
			X509_CRL_free(rootcrl);
			sk_X509_CRL_free(crls);
			sk_X509_pop_free(*signer, X509_free);
			*signer = NULL;
			return err_set(ENOMEM, "CRL: out of memory");
		}
	}
	ret = tdx_pck_chain_verify(*signer, root, crls, at, detail, sizeof(detail), &stale, NULL);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	if (ret < 0 || !att_check(r, ATT_AUTH, name, ret == 1, "%s: %s%s", file, detail,
				  crls ? " (checked against rootcrl.der)" : "")) {
		sk_X509_pop_free(*signer, X509_free);
		*signer = NULL;
		return ret < 0 ? ret : 0;
	}
	/* under Intel's root, the signer must be Intel's TCB signing certificate */
	if (tdx_root_is_intel(root) &&
	    !att_check(r, ATT_AUTH, "tdx.tcb_signing_profile",
		       tdx_intel_profile_ok(sk_X509_value(*signer, 0), "tcb_signing", detail, sizeof(detail)), "%s: %s",
		       file, detail)) {
		sk_X509_pop_free(*signer, X509_free);
		*signer = NULL;
	}
	return 0;
}

/* The collateral baseline of the policy (QVL appraisal, Trustee): the TCB
 * evaluation data number of TCB info and QE identity (Intel raises it at
 * each TCB recovery), the matched level's tcbDate, and advisories the
 * relying party will not accept. */
static void baseline_checks(const json_t *tdx, struct collateral *ti, struct collateral *qi, struct att_result *r)
{
	const json_t *v, *a, *id;
	size_t i, k;

	if ((v = json_object_get(tdx, "min_tcb_evaluation_data_number"))) {
		json_int_t min = json_integer_value(v);
		const json_t *tn = ti ? json_object_get(ti->body, "tcbEvaluationDataNumber") : NULL;
		const json_t *qn = qi ? json_object_get(qi->body, "tcbEvaluationDataNumber") : NULL;
		bool ok = json_is_integer(tn) && json_integer_value(tn) >= min &&
			  (!qi || (json_is_integer(qn) && json_integer_value(qn) >= min));

		att_check(r, ATT_POLICY, "tdx.policy.min_tcb_evaluation_data_number", ok,
			  "tcbEvaluationDataNumber: TCB info %lld, QE identity %lld; policy minimum %lld",
			  json_is_integer(tn) ? (long long)json_integer_value(tn) : -1LL,
			  json_is_integer(qn) ? (long long)json_integer_value(qn) : -1LL, (long long)min);
	}
	if ((v = json_object_get(tdx, "min_tcb_date"))) {
		const char *date = json_string_value(json_object_get(r->claims, "tcb_date"));
		time_t want = 0, got = 0;

		att_parse_time(json_string_value(v), &want);
		bool ok = date && !parse_time(date, &got) && got >= want;
		att_check(r, ATT_POLICY, "tdx.policy.min_tcb_date", ok, "matched TCB level's tcbDate %s, policy minimum %s",
			  date ? date : "(no level matched)", json_string_value(v));
	}
	if ((v = json_object_get(tdx, "rejected_advisory_ids"))) {
		const json_t *have = json_object_get(r->claims, "advisory_ids");
		const char *hit = NULL;

		json_array_foreach(v, i, a) json_array_foreach(have, k, id) if (json_is_string(id) &&
			!strcmp(json_string_value(id), json_string_value(a))) hit = json_string_value(a);
		att_check(r, ATT_POLICY, "tdx.policy.rejected_advisory_ids", !hit && json_object_get(r->claims, "tcb_date"),
			  "%s%s", hit ? "the matched TCB level lists the rejected advisory " : "",
			  hit ? hit : json_object_get(r->claims, "tcb_date") ? "no rejected advisory at the matched TCB level"
									  : "no TCB level matched: advisories unknown");
	}
}

int tdx_collateral_check(const char *dir, const struct tdx_quote *q, const struct tdx_pck_ext *ext, X509 *root,
			 time_t at, const json_t *policy, struct att_result *r)
{
	const json_t *accepted = json_object_get(json_object_get(policy, "tdx"), "accepted_tcb_status");
	struct collateral ti, qi;
	bool have_ti, have_qi, ok;
	STACK_OF(X509) *ti_signer = NULL, *qi_signer = NULL;
	const char *st = NULL, *qst = NULL;
	size_t i;
	json_t *a;
	int ret;

	memset(&ti, 0, sizeof(ti));
	memset(&qi, 0, sizeof(qi));
	if ((ret = load(dir, "tcbinfo.json", "tcbInfo", &ti, &have_ti)) ||
	    (ret = load(dir, "qe_identity.json", "enclaveIdentity", &qi, &have_qi)))
		goto out;
	/* PCS signs TCB info and QE identity with the same TCB signing key. */
	if (have_ti && (ret = load_signer(dir, "tcb_signing_chain.pem", root, at, "tdx.tcb_info.signing_chain",
					  &ti_signer, r)))
		goto out;
	if (have_qi && (ret = load_signer(dir, "qe_identity_chain.pem", root, at, "tdx.qe_identity.signing_chain",
					  &qi_signer, r)))
		goto out;
	if (have_qi && !qi_signer && ti_signer)
		qi_signer = sk_X509_deep_copy(ti_signer, X509_dup, X509_free);
	/* The QE's status first: the TCB status converges it in last, and
	 * the TD relaunch check depends on it. */
	if (have_qi) {
		check_signature(&qi, "enclaveIdentity", qi_signer, "tdx.qe_identity.signature", r);
		check_fresh(&qi, at, "tdx.qe_identity.fresh", policy, r);
		qst = eval_qe_identity(&qi, q, r);
		if (qst)
			json_object_set_new(r->claims, "qe_tcb_status", json_string(qst));
	} else {
		att_check(r, ATT_ADVISORY, "tdx.qe_identity", false, "not checked: no qe_identity.json in %s", dir);
	}
	if (have_ti) {
		check_signature(&ti, "tcbInfo", ti_signer, "tdx.tcb_info.signature", r);
		check_fresh(&ti, at, "tdx.tcb_info.fresh", policy, r);
		st = eval_tcb_info(&ti, q, ext, qst, r);
	} else {
		att_check(r, ATT_ADVISORY, "tdx.tcb_status", false, "not checked: no tcbinfo.json in %s", dir);
	}
	if (st) {
		const char *conv = qst ? converge(st, qst) : st;

		json_object_set_new(r->claims, "tcb_status", json_string(conv));
		ok = false;
		if (accepted) {
			json_array_foreach(accepted, i, a)
				ok = ok || (json_string_value(a) && !strcmp(json_string_value(a), conv));
		} else {
			ok = !strcmp(conv, "UpToDate");
		}
		att_check(r, accepted ? ATT_POLICY : ATT_ADVISORY, "tdx.tcb_status", ok,
			  "TCB status %s (platform %s%s%s)%s", conv, st, qst ? ", QE " : "", qst ? qst : "",
			  ok ? "" : accepted ? ": not in accepted_tcb_status" : ": not UpToDate");
	}
	baseline_checks(json_object_get(policy, "tdx"), have_ti ? &ti : NULL, have_qi ? &qi : NULL, r);
	ret = 0;
out:
	sk_X509_pop_free(ti_signer, X509_free);
	sk_X509_pop_free(qi_signer, X509_free);
	unload(&ti);
	unload(&qi);
	return ret;
}
