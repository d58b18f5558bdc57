/* endpoint_json.c - the JSON the attestation endpoint reads and writes
 * (endpoint.h): request bodies from the network (hostile: every field
 * checked, unknown keys refused) and the evidence bundle it answers with. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/base64.h"
#include "attestation/endpoint.h"
#include "common/common.h"

/* Parse body as a JSON object whose keys are all in allowed (NULL-ended). */
static int load_object(const char *body, size_t len, const char *const *allowed, json_t **out)
{
	json_error_t jerr;
	const char *key;
	json_t *o, *v;

	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return err_set(EINVAL, "request body: not JSON (line %d: %s)", jerr.line, jerr.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(EINVAL, "request body: not a JSON object");
	}
	json_object_foreach(o, key, v) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], key); i++)
			;
		if (!allowed[i]) {
			int ret = err_set(EINVAL, "request body: unknown key \"%.64s\"", key);

			json_decref(o); /* key lives in o */
			return ret;
		}
	}
	*out = o;
	return 0;
}

/* A JSON string member without embedded NULs; *len its length. */
static int get_string(json_t *o, const char *key, const char **s, size_t *len)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return err_set(EINVAL, "request body: missing \"%s\"", key);
	if (!json_is_string(v))
		return err_set(EINVAL, "\"%s\": expected a string", key);
	*s = json_string_value(v);
	*len = json_string_length(v);
	if (strlen(*s) != *len)
		return err_set(EINVAL, "\"%s\": contains a NUL character", key);
	return 0;
}

static int get_nonce(json_t *o, uint8_t nonce[ATT_NONCE_MAX], size_t *nonce_len)
{
	const char *s;
	size_t len;
	int ret;

	if ((ret = get_string(o, "nonce", &s, &len)) || (ret = hex_decode(s, nonce, ATT_NONCE_MAX, nonce_len, "\"nonce\"")))
		return ret;
	if (*nonce_len < ATT_NONCE_MIN)
		return err_set(EINVAL, "\"nonce\": %zu bytes, at least %u required", *nonce_len, ATT_NONCE_MIN);
	return 0;
}

int att_ep_parse_evidence_req(const char *body, size_t len, uint8_t nonce[ATT_NONCE_MAX], size_t *nonce_len)
{
	static const char *const keys[] = { "nonce", NULL };
	json_t *o;
	int ret;

	if ((ret = load_object(body, len, keys, &o)))
		return ret;
	ret = get_nonce(o, nonce, nonce_len);
	json_decref(o);
	return ret;
}

int att_ep_parse_secret_req(const char *body, size_t len, struct att_ep_secret_req *req)
{
	static const char *const keys[] = { "nonce", "name", "ephemeral_pubkey", "ciphertext", NULL };
	const char *s;
	size_t n;
	json_t *o;
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = load_object(body, len, keys, &o)))
		return ret;
	if ((ret = get_nonce(o, req->nonce, &req->nonce_len)) || (ret = get_string(o, "name", &s, &n)))
		goto out;
	if (!att_secret_name_ok((const uint8_t *)s, n)) {
		ret = err_set(EINVAL, "\"name\": not a plain file name of 1..%u characters [A-Za-z0-9._-]",
			      ATT_SECRET_NAME_MAX);
		goto out;
	}
	memcpy(req->name, s, n + 1);
	if ((ret = get_string(o, "ephemeral_pubkey", &s, &n)) ||
	    (ret = hex_decode_exact(s, req->eph_pubkey, ATT_PUBKEY_LEN, "\"ephemeral_pubkey\"")) ||
	    (ret = get_string(o, "ciphertext", &s, &n)) ||
	    (ret = att_b64_decode(s, n, ATT_SECRET_MAX + 16, "\"ciphertext\"", &req->ciphertext,
				  &req->ciphertext_len)))
		goto out;
	if (req->ciphertext_len < 16)
		ret = err_set(EINVAL, "\"ciphertext\": %zu bytes, shorter than the 16-byte tag", req->ciphertext_len);
out:
	json_decref(o);
	if (ret)
		att_ep_secret_req_free(req);
	return ret;
}

void att_ep_secret_req_free(struct att_ep_secret_req *req)
{
	free(req->ciphertext);
	req->ciphertext = NULL;
	req->ciphertext_len = 0;
}

void att_ep_secret_msg(const struct att_ep_secret_req *req, struct att_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = ATT_MSG_SECRET_REQ;
	m->nonce = req->nonce;
	m->nonce_len = req->nonce_len;
	m->name = (const uint8_t *)req->name;
	m->name_len = strlen(req->name);
	m->eph_pubkey = req->eph_pubkey;
	m->eph_pubkey_len = ATT_PUBKEY_LEN;
	m->ciphertext = req->ciphertext;
	m->ciphertext_len = req->ciphertext_len;
}

static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	int ret;

	if (!s)
		return -1;
	hex_encode(p, n, s);
	ret = json_object_set_new(o, key, json_string(s));
	free(s);
	return ret;
}

static int set_b64(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *s;
	int ret;

	if (att_b64_encode(p, n, &s))
		return -1;
	ret = json_object_set_new(o, key, json_string(s));
	free(s);
	return ret;
}

json_t *att_ep_bundle(const struct att_msg *rsp, const uint8_t *nonce, size_t nonce_len, json_t *launch,
		      const uint8_t *manifest, size_t manifest_len)
{
	json_t *b = json_object();
	int bad = !b;

	if (bad)
		return NULL;
	bad |= json_object_set_new(b, "version", json_integer(1));
	bad |= json_object_set_new(b, "platform", json_stringn((const char *)rsp->platform, rsp->platform_len));
	bad |= json_object_set_new(b, "provider", json_stringn((const char *)rsp->provider, rsp->provider_len));
	bad |= set_hex(b, "nonce", nonce, nonce_len);
	bad |= set_b64(b, "report", rsp->report, rsp->report_len);
	if (rsp->cert_table)
		bad |= set_b64(b, "cert_table", rsp->cert_table, rsp->cert_table_len);
	if (rsp->event_log)
		bad |= set_b64(b, "event_log", rsp->event_log, rsp->event_log_len);
	bad |= set_hex(b, "agent_pubkey", rsp->pubkey, rsp->pubkey_len);
	if (launch)
		bad |= json_object_set(b, "launch", launch);
	if (manifest)
		bad |= set_b64(b, "manifest", manifest, manifest_len);
	if (bad) {
		json_decref(b);
		err_set(ENOMEM, "out of memory building the evidence bundle");
		return NULL;
	}
	return b;
}
