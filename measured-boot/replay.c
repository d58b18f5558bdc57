/* replay.c - fold an event log into PCR / RTMR values.
 *
 * Extend (TPM 2.0 Part 1 17.2, PFP 1.05 10.2.2): reg = H(reg || digest) for
 * every bank of every event, except EV_NO_ACTION (PFP 10.4.1: "not extended").
 * PCRs start at zero, except PCR0 whose last byte is the locality of
 * TPM2_Startup when a StartupLocality event is present (PFP 10.4.5.3).
 * CCEL: MR index 1..4 is RTMR0..3 (UEFI 2.10 38.4.1, TDX GHCI / TDVF), which
 * start at zero. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/common.h"
#include "mb_internal.h"

const char *mb_alg_evp_name(uint16_t alg)
{
	switch (alg) {
	case MB_ALG_SHA1: return "SHA1";
	case MB_ALG_SHA256: return "SHA256";
	case MB_ALG_SHA384: return "SHA384";
	case MB_ALG_SHA512: return "SHA512";
	case 0x0012: return "SM3";
	case 0x0027: return "SHA3-256";
	case 0x0028: return "SHA3-384";
	case 0x0029: return "SHA3-512";
	}
	return NULL;
}

const uint8_t *mb_replay_reg(const struct mb_replay *rp, uint16_t alg, unsigned reg)
{
	if (reg >= MB_PCRS)
		return NULL;
	for (uint32_t b = 0; b < rp->nbanks; b++)
		if (rp->banks[b].alg == alg)
			return rp->banks[b].reg[reg];
	return NULL;
}

int mb_replay(const struct mb_log *log, struct mb_replay *out)
{
	EVP_MD *md[MB_MAX_ALGS] = { 0 };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->kind = log->kind;
	out->nevents = log->nevents;
	out->nbanks = log->nalgs;
	if (!ctx)
		return err_set(ENOMEM, "replay: out of memory");
	for (uint32_t b = 0; b < log->nalgs; b++) {
		const char *name = mb_alg_evp_name(log->algs[b].alg);

		out->banks[b].alg = log->algs[b].alg;
		out->banks[b].size = log->algs[b].size;
		md[b] = name ? EVP_MD_fetch(NULL, name, NULL) : NULL;
		if (!md[b]) {
			ret = err_set(ENOTSUP, "replay: digest %s is not available in OpenSSL",
				      mb_alg_name(log->algs[b].alg));
			goto out;
		}
		if (log->kind == MB_LOG_TPM && log->has_hcrtm)
			out->banks[b].reg[0][log->algs[b].size - 1] = 4;
		else if (log->kind == MB_LOG_TPM && log->has_locality)
			out->banks[b].reg[0][log->algs[b].size - 1] = log->startup_locality;
	}
	/* events[0] is the Spec ID header (EV_NO_ACTION) or, in a legacy log, a
	 * real event */
	for (size_t i = 0; i < log->nevents; i++) {
		const struct mb_event *ev = &log->events[i];
		unsigned reg = ev->index;

		if (ev->type == MB_EV_NO_ACTION)
			continue;
		if (log->kind == MB_LOG_CCEL) {
			if (reg < 1 || reg > MB_RTMRS) {
				ret = err_set(EINVAL, "event log: event #%zu at offset %zu: MR index %u is not an RTMR "
						      "(CCEL index 1..4)", i, ev->offset, reg);
				goto out;
			}
			reg -= 1;
		} else if (reg >= MB_PCRS) {
			ret = err_set(EINVAL, "event log: event #%zu at offset %zu: PCR index %u out of range (0..%d)", i,
				      ev->offset, reg, MB_PCRS - 1);
			goto out;
		}
		/* the parser guarantees at most one digest per bank, in any order */
		for (uint32_t d = 0; d < ev->ndigests; d++) {
			uint32_t b = 0;
			uint8_t *v;

			while (b < out->nbanks && out->banks[b].alg != ev->digests[d].alg)
				b++;
			if (b == out->nbanks)
				continue;
			out->banks[b].touched |= 1u << reg;
			out->touched |= 1u << reg;
			v = out->banks[b].reg[reg];
			if (!EVP_DigestInit_ex2(ctx, md[b], NULL) || !EVP_DigestUpdate(ctx, v, out->banks[b].size) ||
			    !EVP_DigestUpdate(ctx, ev->digests[d].bytes, ev->digests[d].size) ||
			    !EVP_DigestFinal_ex(ctx, v, NULL)) {
				ret = err_set(EIO, "replay: OpenSSL digest failed");
				goto out;
			}
		}
	}
out:
	for (uint32_t b = 0; b < MB_MAX_ALGS; b++)
		EVP_MD_free(md[b]);
	EVP_MD_CTX_free(ctx);
	return ret;
}

char *mb_replay_json(const struct mb_replay *rp)
{
	json_t *root = json_object(), *regs = json_object();
	char *text;

	json_object_set_new(root, "registers", regs);
	for (unsigned r = 0; r < MB_PCRS; r++) {
		json_t *banks;
		char key[16];

		if (!(rp->touched & (1u << r)))
			continue;
		snprintf(key, sizeof(key), "%s%u", rp->kind == MB_LOG_CCEL ? "rtmr" : "pcr", r);
		banks = json_object();
		for (uint32_t b = 0; b < rp->nbanks; b++) {
			char hex[2 * MB_MAX_DIGEST + 1];

			/* like tpm2_eventlog: only banks this register was extended in */
			if (!(rp->banks[b].touched & (1u << r)))
				continue;
			hex_encode(rp->banks[b].reg[r], rp->banks[b].size, hex);
			json_object_set_new(banks, mb_alg_name(rp->banks[b].alg), json_string(hex));
		}
		json_object_set_new(regs, key, banks);
	}
	json_object_set_new(root, "events", json_integer((json_int_t)rp->nevents));
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return text;
}
