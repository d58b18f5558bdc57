/* snp_cert_table.c - parse the certificate table of an SNP extended report
 * request (GHCB spec #56421, "SNP Extended Guest Request"; Linux
 * SNP_GET_EXT_REPORT, configfs-tsm auxblob): entries of
 *   GUID (16 bytes, in the byte order of its text form) | u32le offset | u32le length
 * ended by an all-zero entry, then the certificates (DER), each at an
 * offset from the start of the table. GUIDs (as the kernel, virtee/sev and
 * AMD's sev-guest tools use them):
 *   VCEK 63da758d-e664-4564-adc5-f4b93be8accd   VLEK a8074bc2-a25a-483e-aae6-39c045a0b8a1
 *   ASK  4ab7b379-bbac-4fe4-a02f-05aef327c782   (ASK, or ASVK for a VLEK)
 *   ARK  c0b406a4-a803-4952-9743-3fb6014cd0ae
 * Bytes from the host: a missing terminator, an entry outside the table,
 * overlapping entries, an empty one or a GUID given twice is an error;
 * unknown GUIDs (e.g. a CRL) are counted and named, not fatal. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attestation/snp_report.h"
#include "common/common.h"

#define ENTRY_LEN 24
#define MAX_ENTRIES 64

static const struct {
	const char *name;
	uint8_t guid[16];
	size_t member;
} known[] = {
	{ "VCEK", { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd },
	  offsetof(struct snp_cert_table, vcek) },
	{ "VLEK", { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 },
	  offsetof(struct snp_cert_table, vlek) },
	{ "ASK", { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 },
	  offsetof(struct snp_cert_table, ask) },
	{ "ARK", { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae },
	  offsetof(struct snp_cert_table, ark) },
};

static void guid_text(const uint8_t g[16], char out[37])
{
	char hex[33];

	hex_encode(g, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

int snp_cert_table_parse(const uint8_t *p, size_t len, const char *what, struct snp_cert_table *t)
{
	static const uint8_t zero[16];
	struct {
		const uint8_t *guid;
		uint32_t off, len;
	} e[MAX_ENTRIES];
	size_t n = 0, names = 0;
	struct reader r;

	memset(t, 0, sizeof(*t));
	rd_init(&r, p, len, what);
	for (;;) {
		const uint8_t *g;
		uint32_t off, l;

		if (rd_ptr(&r, "entry GUID", 16, &g) || rd_u32(&r, "entry offset", &off) || rd_u32(&r, "entry length", &l))
			return err_set(EINVAL, "%s: no all-zero terminating entry after %zu entries", what, n);
		if (!memcmp(g, zero, 16)) {
			if (off || l)
				return err_set(EINVAL, "%s: entry %zu has a zero GUID but offset %u, length %u", what, n,
					       off, l);
			break;
		}
		if (n == MAX_ENTRIES)
			return err_set(EINVAL, "%s: more than %d entries", what, MAX_ENTRIES);
		e[n].guid = g;
		e[n].off = off;
		e[n].len = l;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		char gt[37];

		guid_text(e[i].guid, gt);
		if (!e[i].len)
			return err_set(EINVAL, "%s: entry %s is empty", what, gt);
		if (e[i].off < r.off || !range_ok(e[i].off, e[i].len, len))
			return err_set(EINVAL, "%s: entry %s (offset %u, length %u) lies outside the %zu-byte table data",
				       what, gt, e[i].off, e[i].len, len);
		for (size_t j = 0; j < i; j++) {
			if (!memcmp(e[i].guid, e[j].guid, 16))
				return err_set(EINVAL, "%s: GUID %s appears twice", what, gt);
			if ((uint64_t)e[i].off < (uint64_t)e[j].off + e[j].len &&
			    (uint64_t)e[j].off < (uint64_t)e[i].off + e[i].len)
				return err_set(EINVAL, "%s: entry %s overlaps entry %zu", what, gt, j);
		}
		size_t k = 0;
		while (k < ARRAY_SIZE(known) && memcmp(known[k].guid, e[i].guid, 16))
			k++;
		if (k < ARRAY_SIZE(known)) {
			struct snp_cert_blob *b = (struct snp_cert_blob *)((uint8_t *)t + known[k].member);

			b->p = p + e[i].off;
			b->len = e[i].len;
		} else {
			t->unknown++;
			if (names < sizeof(t->unknown_guids))
				names += (size_t)snprintf(t->unknown_guids + names, sizeof(t->unknown_guids) - names,
							  "%s%s", names ? ", " : "", gt);
		}
	}
	t->entries = n;
	return 0;
}
