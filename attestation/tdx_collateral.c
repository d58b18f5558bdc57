/* tdx_collateral.c - TDX collateral as Intel PCS serves it (PCS API v4):
 * TCB info (GET /tdx/certification/v4/tcb, {"tcbInfo":{...},"signature"})
 * and the TD quoting enclave identity (GET /tdx/certification/v4/qe/identity,
 * {"enclaveIdentity":{...},"signature"}). Evaluation follows Intel's
 * "TDX TCB info / QE identity" documentation and the DCAP quote verification
 * flow: the PCK certificate's FMSPC/PCE-ID select the TCB info, the first TCB
 * level whose SGX components, PCESVN and TDX components are all <= the
 * platform's gives the status; the TDX module identity (TEE_TCB_SVN[1] =
 * module major version, [0] = module SVN) and the QE identity's ISVSVN give
 * statuses that converge with it (the worst wins).
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

static const char *const tcb_status_order[] = {
	"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
	"OutOfDate", "OutOfDateConfigurationNeeded", "Revoked",
};

int tdx_tcb_status_rank(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(tcb_status_order); i++)
		if (!strcmp(s, tcb_status_order[i]))
			return (int)i;
	return (int)ARRAY_SIZE(tcb_status_order);
}

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

static void check_fresh(struct collateral *c, time_t at, const char *name, struct att_result *r)
{
	time_t issue, next;
	const char *is = jstr(c->body, "issueDate"), *nu = jstr(c->body, "nextUpdate");

	if (parse_time(is, &issue) || parse_time(nu, &next)) {
		att_check(r, ATT_ADVISORY, name, false, "%s: issueDate/nextUpdate missing or malformed", c->file);
		return;
	}
	att_check(r, ATT_ADVISORY, name, at >= issue && at <= next, "%s: issued %s, next update %s%s", c->file, is, nu,
		  at > next ? ": expired at the evaluation time" : at < issue ? ": not yet issued" : "");
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

/* SVN of one component: v3 arrays [{"svn":n},...], v2 keys "sgxtcbcomp01svn". */
static int comp_svn(const json_t *tcb, const char *kind, int i, long long *svn)
{
	char key[40];
	json_t *arr, *v;

	snprintf(key, sizeof(key), "%stcbcomponents", kind);
	arr = json_object_get(tcb, key);
	if (arr) {
		v = json_object_get(json_array_get(arr, (size_t)i), "svn");
	} else {
		snprintf(key, sizeof(key), "%stcbcomp%02dsvn", kind, i + 1);
		v = json_object_get(tcb, key);
	}
	if (!json_is_integer(v))
		return -1;
	*svn = json_integer_value(v);
	return 0;
}

/* First TCB level the platform meets (all its SVNs >= the level's). */
static const json_t *match_tcb_level(const json_t *levels, const struct tdx_pck_ext *ext, const uint8_t *tee_tcb_svn,
				     int tdx_start, const char *file)
{
	size_t i;
	const json_t *lvl;

	json_array_foreach(levels, i, lvl) {
		const json_t *tcb = json_object_get(lvl, "tcb");
		json_t *pce = json_object_get(tcb, "pcesvn");
		bool ok = json_is_integer(pce) && json_integer_value(pce) <= ext->pcesvn;
		long long svn;

		for (int c = 0; ok && c < 16; c++) {
			if (comp_svn(tcb, "sgx", c, &svn)) {
				err_set(EINVAL, "%s: tcbLevels[%zu]: SGX component %d missing", file, i, c + 1);
				return NULL;
			}
			ok = svn <= ext->comp_svn[c];
		}
		for (int c = tdx_start; ok && c < 16; c++) {
			if (comp_svn(tcb, "tdx", c, &svn)) {
				err_set(EINVAL, "%s: tcbLevels[%zu]: TDX component %d missing", file, i, c + 1);
				return NULL;
			}
			ok = svn <= tee_tcb_svn[c];
		}
		if (ok)
			return lvl;
	}
	err_set(ENOENT, "no TCB level matches the platform");
	return NULL;
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
		if ((q->body[TDX_B_SEAM_ATTRIBUTES + i] & mask[i]) != (attr[i] & mask[i]))
			return false;
	return true;
}

/* The TDX module: with TEE_TCB_SVN[1] (major version) > 0 and TCB info v3,
 * the identity "TDX_<major, 2 hex digits>" and its own TCB levels by module
 * SVN (TEE_TCB_SVN[0]); else the single tdxModule entry. Returns a status. */
static const char *tdx_module_status(const json_t *ti, const struct tdx_quote *q, const char *file, struct att_result *r)
{
	const uint8_t *svn = q->body + TDX_B_TEE_TCB_SVN;
	const json_t *ids = json_object_get(ti, "tdxModuleIdentities"), *id, *lvl;
	char want[16];
	size_t i;

	if (!ids || svn[1] == 0) {
		id = json_object_get(ti, "tdxModule");
		if (!json_is_object(id)) /* v2 without module entry: nothing to compare */
			return "UpToDate";
		att_check(r, ATT_AUTH, "tdx.tcb_info.tdx_module", seam_identity_ok(id, q, file),
			  "MRSIGNERSEAM/SEAM attributes vs %s tdxModule", file);
		return "UpToDate";
	}
	snprintf(want, sizeof(want), "TDX_%02X", svn[1]);
	json_array_foreach(ids, i, id) {
		if (!jstr(id, "id") || strcmp(jstr(id, "id"), want))
			continue;
		att_check(r, ATT_AUTH, "tdx.tcb_info.tdx_module", seam_identity_ok(id, q, file),
			  "MRSIGNERSEAM/SEAM attributes vs %s %s", file, want);
		json_array_foreach(json_object_get(id, "tcbLevels"), i, lvl) {
			json_t *isvsvn = json_object_get(json_object_get(lvl, "tcb"), "isvsvn");

			if (json_is_integer(isvsvn) && json_integer_value(isvsvn) <= svn[0])
				return jstr(lvl, "tcbStatus") ? jstr(lvl, "tcbStatus") : "NotSupported";
		}
		return "NotSupported";
	}
	att_check(r, ATT_AUTH, "tdx.tcb_info.tdx_module", false, "%s: no TDX module identity %s", file, want);
	return "NotSupported";
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Converge the platform status with the TDX module's or the QE's (Intel
 * DCAP quote verification, TCB status convergence): an out-of-date module/QE
 * makes an up-to-date (or SW-hardening-needed) platform OutOfDate and a
 * configuration-needed one OutOfDateConfigurationNeeded; Revoked wins;
 * anything else unexpected ranks by order. */
static const char *converge(const char *platform, const char *other)
{
	if (!strcmp(other, "UpToDate"))
		return platform;
	if (!strcmp(other, "OutOfDate")) {
		if (!strcmp(platform, "UpToDate") || !strcmp(platform, "SWHardeningNeeded"))
			return "OutOfDate";
		if (!strcmp(platform, "ConfigurationNeeded") || !strcmp(platform, "ConfigurationAndSWHardeningNeeded"))
			return "OutOfDateConfigurationNeeded";
	}
	return tdx_tcb_status_rank(other) > tdx_tcb_status_rank(platform) ? other : platform;
}

/* TCB info: returns the platform+module status (borrowed from the JSON) or
 * NULL after recording why none can be given. */
static const char *eval_tcb_info(struct collateral *c, const struct tdx_quote *q, const struct tdx_pck_ext *ext,
				 struct att_result *r)
{
	const json_t *ti = c->body, *lvl;
	uint8_t fmspc[6], pceid[2];
	json_t *ver = json_object_get(ti, "version");
	const char *id = jstr(ti, "id"), *st, *mod;
	int tdx_start;

	if (!json_is_integer(ver) || json_integer_value(ver) < 2 || json_integer_value(ver) > 3 ||
	    (json_integer_value(ver) == 3 && (!id || strcmp(id, "TDX")))) {
		att_check(r, ATT_AUTH, "tdx.tcb_info", false, "%s: not TDX TCB info version 2 or 3", c->file);
		return NULL;
	}
	if (hex_field(ti, "fmspc", fmspc, 6, c->file) || hex_field(ti, "pceId", pceid, 2, c->file)) {
		att_check(r, ATT_AUTH, "tdx.tcb_info", false, "%s", err_msg());
		return NULL;
	}
	if (!att_check(r, ATT_AUTH, "tdx.tcb_info", !memcmp(fmspc, ext->fmspc, 6) && !memcmp(pceid, ext->pceid, 2),
		       "%s: FMSPC %s / PCE-ID %s vs PCK certificate", c->file, jstr(ti, "fmspc"), jstr(ti, "pceId")))
		return NULL;
	/* TCB info v3 with a module major version: the first two TDX
	 * components are the module's, judged by tdxModuleIdentities instead. */
	tdx_start = json_integer_value(ver) > 2 && q->body[TDX_B_TEE_TCB_SVN + 1] > 0 ? 2 : 0;
	lvl = match_tcb_level(json_object_get(ti, "tcbLevels"), ext, q->body + TDX_B_TEE_TCB_SVN, tdx_start, c->file);
	if (!lvl) {
		att_check(r, ATT_ADVISORY, "tdx.tcb_level", false, "%s: %s", c->file, err_msg());
		return "NotSupported";
	}
	st = jstr(lvl, "tcbStatus") ? jstr(lvl, "tcbStatus") : "NotSupported";
	att_check(r, ATT_ADVISORY, "tdx.tcb_level", true, "%s: level of %s: %s", c->file,
		  jstr(lvl, "tcbDate") ? jstr(lvl, "tcbDate") : "?", st);
	if (json_object_get(lvl, "advisoryIDs"))
		json_object_set(r->claims, "advisory_ids", json_object_get(lvl, "advisoryIDs"));
	mod = tdx_module_status(ti, q, c->file, r);
	json_object_set_new(r->claims, "tdx_module_tcb_status", json_string(mod));
	return converge(st, mod);
}

/* QE identity: the QE report must come from Intel's TD quoting enclave. */
static const char *eval_qe_identity(struct collateral *c, const struct tdx_quote *q, struct att_result *r)
{
	const json_t *qi = c->body, *lvl;
	const uint8_t *rep = q->qe_report;
	uint8_t mrsigner[32], misc[4], misc_mask[4], attr[16], attr_mask[16];
	json_t *prodid = json_object_get(qi, "isvprodid");
	bool ok;
	size_t i;

	if (!jstr(qi, "id") || strcmp(jstr(qi, "id"), "TD_QE")) {
		att_check(r, ATT_AUTH, "tdx.qe_identity", false, "%s: id is not TD_QE (the TDX quoting enclave)",
			  c->file);
		return NULL;
	}
	if (hex_field(qi, "mrsigner", mrsigner, 32, c->file) || hex_field(qi, "miscselect", misc, 4, c->file) ||
	    hex_field(qi, "miscselectMask", misc_mask, 4, c->file) || hex_field(qi, "attributes", attr, 16, c->file) ||
	    hex_field(qi, "attributesMask", attr_mask, 16, c->file) || !json_is_integer(prodid)) {
		att_check(r, ATT_AUTH, "tdx.qe_identity", false, "%s: malformed (%s)", c->file, err_msg());
		return NULL;
	}
	/* MISCSELECT is a little-endian u32 in the report, big-endian hex in JSON */
	ok = !memcmp(mrsigner, rep + SGX_R_MRSIGNER, 32) &&
	     json_integer_value(prodid) == le16(rep + SGX_R_ISVPRODID) &&
	     (le32(rep + SGX_R_MISCSELECT) & be32(misc_mask)) == (be32(misc) & be32(misc_mask));
	for (int k = 0; k < 16; k++)
		ok = ok && (rep[SGX_R_ATTRIBUTES + k] & attr_mask[k]) == (attr[k] & attr_mask[k]);
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
	ret = tdx_pck_chain_verify(*signer, root, NULL, at, detail, sizeof(detail), &stale, NULL);
	if (ret < 0 || !att_check(r, ATT_AUTH, name, ret == 1, "%s: %s", file, detail)) {
		sk_X509_pop_free(*signer, X509_free);
		*signer = NULL;
	}
	return ret < 0 ? ret : 0;
}

int tdx_collateral_check(const char *dir, const struct tdx_quote *q, const struct tdx_pck_ext *ext, X509 *root,
			 time_t at, const json_t *accepted, struct att_result *r)
{
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
	if (have_ti) {
		check_signature(&ti, "tcbInfo", ti_signer, "tdx.tcb_info.signature", r);
		check_fresh(&ti, at, "tdx.tcb_info.fresh", r);
		st = eval_tcb_info(&ti, q, ext, r);
	} else {
		att_check(r, ATT_ADVISORY, "tdx.tcb_status", false, "not checked: no tcbinfo.json in %s", dir);
	}
	if (have_qi) {
		check_signature(&qi, "enclaveIdentity", qi_signer, "tdx.qe_identity.signature", r);
		check_fresh(&qi, at, "tdx.qe_identity.fresh", r);
		qst = eval_qe_identity(&qi, q, r);
		if (qst)
			json_object_set_new(r->claims, "qe_tcb_status", json_string(qst));
	} else {
		att_check(r, ATT_ADVISORY, "tdx.qe_identity", false, "not checked: no qe_identity.json in %s", dir);
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
	ret = 0;
out:
	sk_X509_pop_free(ti_signer, X509_free);
	sk_X509_pop_free(qi_signer, X509_free);
	unload(&ti);
	unload(&qi);
	return ret;
}
