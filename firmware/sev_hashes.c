/* The SEV hashes table: how QEMU passes the hashes of the kernel, initrd and
 * command line of a direct kernel boot into the measured firmware
 * (QEMU target/i386/sev.c, sev_add_kernel_loader_hashes; OVMF
 * OvmfPkg/AmdSev/BlobVerifierLibSevHashes checks them). The table is
 *   GUID 9438d606-... , u16 length (168)
 *   { GUID, u16 length (50), SHA-256 } for cmdline, initrd, kernel
 * and QEMU copies it padded with zeros to a multiple of 16 bytes. QEMU leaves
 * the kernel's setup header untouched for SEV guests (hw/i386/x86.c), so the
 * kernel hash is the SHA-256 of the file as given. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "firmware.h"

#define ENTRY_LEN 50u /* GUID + u16 + SHA-256 */

static int sha256(const void *p, size_t n, uint8_t out[32], const char *what)
{
	if (!EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL))
		return err_set(EIO, "%s: SHA-256 failed (OpenSSL)", what);
	return 0;
}

int fw_sev_hashes_compute(const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd, size_t initrd_len,
			  const char *cmdline, struct fw_sev_hashes *h)
{
	static const uint8_t empty[1];
	int ret;

	/* The command line is hashed with its terminating NUL; no command line
	 * is the empty string. */
	ret = sha256(cmdline ? cmdline : "", cmdline ? strlen(cmdline) + 1 : 1, h->cmdline, "command line");
	if (!ret)
		ret = sha256(initrd ? initrd : empty, initrd ? initrd_len : 0, h->initrd, "initrd");
	if (!ret)
		ret = sha256(kernel ? kernel : empty, kernel ? kernel_len : 0, h->kernel, "kernel");
	return ret;
}

static void put_entry(uint8_t *p, const char *guid, const uint8_t hash[32])
{
	struct efi_guid g;

	guid_parse(guid, &g);
	memcpy(p, g.b, 16);
	put_le16(p + 16, ENTRY_LEN);
	memcpy(p + 18, hash, 32);
}

void fw_sev_hashes_table(const struct fw_sev_hashes *h, uint8_t out[FW_SEV_HASHES_PADDED_LEN])
{
	struct efi_guid g;

	memset(out, 0, FW_SEV_HASHES_PADDED_LEN);
	guid_parse(FW_GUID_SEV_HASHES_HEADER, &g);
	memcpy(out, g.b, 16);
	put_le16(out + 16, FW_SEV_HASHES_TABLE_LEN);
	put_entry(out + 18, FW_GUID_SEV_HASH_CMDLINE, h->cmdline);
	put_entry(out + 18 + ENTRY_LEN, FW_GUID_SEV_HASH_INITRD, h->initrd);
	put_entry(out + 18 + 2 * ENTRY_LEN, FW_GUID_SEV_HASH_KERNEL, h->kernel);
}

/* Entries are matched by GUID, in any order, as OVMF's verifier does; each
 * of the three must appear exactly once. */
int fw_sev_hashes_parse(const uint8_t *buf, size_t len, const char *what, struct fw_sev_hashes *h)
{
	static const char *const guids[3] = { FW_GUID_SEV_HASH_CMDLINE, FW_GUID_SEV_HASH_INITRD,
					      FW_GUID_SEV_HASH_KERNEL };
	static const char *const names[3] = { "cmdline", "initrd", "kernel" };
	uint8_t *dst[3] = { h->cmdline, h->initrd, h->kernel };
	bool seen[3] = { false, false, false };
	struct efi_guid hdr, g;
	uint8_t guid[16];
	uint16_t table_len;
	struct reader r;

	rd_init(&r, buf, len, what);
	if (rd_bytes(&r, "hashes table GUID", guid, 16) || rd_u16(&r, "hashes table length", &table_len))
		return -EINVAL;
	guid_parse(FW_GUID_SEV_HASHES_HEADER, &hdr);
	if (memcmp(guid, hdr.b, 16))
		return err_set(EINVAL, "%s: no SEV hashes table (header GUID mismatch)", what);
	if (table_len < 18 || table_len > len)
		return err_set(EINVAL, "%s: SEV hashes table length %u is out of range (%zu bytes available)", what,
			       table_len, len);
	r.len = table_len;
	while (rd_left(&r) > 0) {
		uint16_t elen;
		const uint8_t *hash;
		size_t at = r.off;
		int k;

		if (rd_bytes(&r, "hashes table entry GUID", guid, 16) || rd_u16(&r, "hashes table entry length", &elen))
			return -EINVAL;
		if (elen != ENTRY_LEN)
			return err_set(EINVAL, "%s: SEV hashes table entry at offset %zu has length %u (expected %u)", what,
				       at, elen, ENTRY_LEN);
		if (rd_ptr(&r, "hashes table entry hash", 32, &hash))
			return -EINVAL;
		for (k = 0; k < 3; k++) {
			guid_parse(guids[k], &g);
			if (!memcmp(guid, g.b, 16))
				break;
		}
		if (k == 3) {
			char s[37];

			memcpy(g.b, guid, 16);
			guid_format(&g, s);
			return err_set(EINVAL, "%s: SEV hashes table entry at offset %zu has unknown GUID %s", what, at, s);
		}
		if (seen[k])
			return err_set(EINVAL, "%s: SEV hashes table has two %s entries", what, names[k]);
		seen[k] = true;
		memcpy(dst[k], hash, 32);
	}
	for (int k = 0; k < 3; k++)
		if (!seen[k])
			return err_set(EINVAL, "%s: SEV hashes table has no %s entry", what, names[k]);
	return 0;
}
