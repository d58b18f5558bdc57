/* sim_report.c - the sim-snp secure processor signs ATTESTATION_REPORTs in
 * the real format (AMD SEV-SNP Firmware ABI spec #56860, Table 23
 * "ATTESTATION_REPORT Structure", VERSION 3) and serves the extended
 * request's certificate table (GHCB spec #56421, "SNP Extended Guest
 * Request": entries {GUID, u32 offset, u32 length}, all-zero terminator,
 * then the certificates; offsets from the start of the table).
 *
 * What each field says for a sim launch:
 *   0x000 VERSION            3 (adds CPUID_FAM/MOD/STEP)
 *   0x004 GUEST_SVN          from the ID block (snp_sim_launch.guest_svn)
 *   0x008 POLICY             the guest policy the launch was made with
 *   0x010 FAMILY_ID/IMAGE_ID from the ID block (zero without one)
 *   0x030 VMPL               the VMPL of the request (0..3)
 *   0x034 SIGNATURE_ALGO     1: ECDSA P-384 with SHA-384
 *   0x038 CURRENT_TCB        the store's TCB (= the VCEK's SPLs)
 *   0x040 PLATFORM_INFO      0: the simulation claims no SMT, TSME, ...
 *   0x048 FLAGS              bit 0 AUTHOR_KEY_EN from the launch; MASK_CHIP_KEY 0;
 *                            SIGNING_KEY (bits 4:2) 0 = VCEK
 *   0x050 REPORT_DATA        the guest's 64 bytes
 *   0x090 MEASUREMENT        the launch digest folded from the plan
 *   0x0C0 HOST_DATA          the launch's HOST_DATA (manifest digest)
 *   0x0E0 ID_KEY_DIGEST, 0x110 AUTHOR_KEY_DIGEST   from the ID block
 *   0x140 REPORT_ID          random, new with every snp_sim_launch
 *   0x160 REPORT_ID_MA       all 0xFF: no migration agent
 *   0x180 REPORTED_TCB       the store's TCB
 *   0x188 CPUID_FAM_ID/MOD_ID/STEP   19h/01h/01h: Milan B0, as the certificates
 *   0x1A0 CHIP_ID            the store's random 64 bytes (= VCEK hwID)
 *   0x1E0 COMMITTED_TCB      the store's TCB
 *   0x1E8 CURRENT_BUILD/MINOR/MAJOR, 0x1EC COMMITTED_*   firmware 1.55.21
 *   0x1F0 LAUNCH_TCB         the store's TCB
 *   0x2A0 SIGNATURE          ECDSA P-384/SHA-384 over 0x000..0x29F, R and S
 *                            little-endian, zero-padded to 72 bytes each */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rand.h>

#include "common/common.h"
#include "sev/sim_internal.h"

#define REPORT_LEN 0x4A0
#define SIGNED_LEN 0x2A0
#define FW_MAJOR 1
#define FW_MINOR 55
#define FW_BUILD 21

int snp_sim_launch(struct snp_sim *sp, const struct snp_sim_launch *l)
{
	uint8_t id[32];

	if (RAND_bytes(id, sizeof(id)) != 1)
		return err_set(EIO, "sim-snp: no random bytes for REPORT_ID");
	pthread_mutex_lock(&sp->lock);
	sp->launch = *l;
	memcpy(sp->report_id, id, 32);
	sp->launched = true;
	pthread_mutex_unlock(&sp->lock);
	return 0;
}

static int sign_report(EVP_PKEY *key, uint8_t *rep)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[160];
	const unsigned char *q = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *sig = NULL;
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key) == 1 &&
		 EVP_DigestSign(ctx, der, &dlen, rep, SIGNED_LEN) == 1 && (sig = d2i_ECDSA_SIG(NULL, &q, (long)dlen)) &&
		 BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), rep + SIGNED_LEN, 72) == 72 &&
		 BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), rep + SIGNED_LEN + 72, 72) == 72;

	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : err_set(EIO, "sim-snp: signing the report with the VCEK failed");
}

int snp_sim_report(struct snp_sim *sp, const uint8_t report_data[64], uint32_t vmpl, uint8_t out[0x4A0])
{
	const struct snp_sim_launch *l = &sp->launch;
	uint8_t *p = out;
	int ret;

	if (vmpl > 3)
		return err_set(EINVAL, "sim-snp: VMPL %u is not 0..3", vmpl);
	pthread_mutex_lock(&sp->lock);
	if (!sp->launched) {
		pthread_mutex_unlock(&sp->lock);
		return err_set(ENODATA, "sim-snp: no launch recorded yet: a report needs snp_sim_launch first");
	}
	memset(p, 0, REPORT_LEN);
	put_le32(p + 0x000, 3);
	put_le32(p + 0x004, l->guest_svn);
	put_le64(p + 0x008, l->policy);
	memcpy(p + 0x010, l->family_id, 16);
	memcpy(p + 0x020, l->image_id, 16);
	put_le32(p + 0x030, vmpl);
	put_le32(p + 0x034, 1);
	put_le64(p + 0x038, sp->tcb);
	put_le64(p + 0x040, 0);
	put_le32(p + 0x048, l->author_key_en ? 1u : 0u);
	memcpy(p + 0x050, report_data, 64);
	memcpy(p + 0x090, l->measurement, 48);
	memcpy(p + 0x0C0, l->host_data, 32);
	memcpy(p + 0x0E0, l->id_key_digest, 48);
	memcpy(p + 0x110, l->author_key_digest, 48);
	memcpy(p + 0x140, sp->report_id, 32);
	memset(p + 0x160, 0xFF, 32);
	put_le64(p + 0x180, sp->tcb);
	p[0x188] = SIM_CPUID_FAMILY;
	p[0x189] = SIM_CPUID_MODEL;
	p[0x18A] = SIM_CPUID_STEP;
	memcpy(p + 0x1A0, sp->chip_id, 64);
	put_le64(p + 0x1E0, sp->tcb);
	p[0x1E8] = FW_BUILD;
	p[0x1E9] = FW_MINOR;
	p[0x1EA] = FW_MAJOR;
	p[0x1EC] = FW_BUILD;
	p[0x1ED] = FW_MINOR;
	p[0x1EE] = FW_MAJOR;
	put_le64(p + 0x1F0, sp->tcb);
	ret = sign_report(sp->vcek_key, p);
	pthread_mutex_unlock(&sp->lock);
	return ret;
}

/* GUIDs in their on-the-wire byte order (the order of the text form). */
static const uint8_t guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
				       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
				      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
				      0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

int snp_sim_cert_table(struct snp_sim *sp, uint8_t **out, size_t *len)
{
	const uint8_t *guids[3] = { guid_vcek, guid_ask, guid_ark };
	const uint8_t *der[3] = { sp->vcek_der, sp->ask_der, sp->ark_der };
	size_t n[3] = { sp->vcek_der_len, sp->ask_der_len, sp->ark_der_len };
	size_t off = 4 * 24, total = off + n[0] + n[1] + n[2];
	uint8_t *t = calloc(1, total);

	*out = NULL;
	if (!t)
		return err_set(ENOMEM, "sim-snp: out of memory");
	for (int i = 0; i < 3; i++) {
		memcpy(t + 24 * i, guids[i], 16);
		put_le32(t + 24 * i + 16, (uint32_t)off);
		put_le32(t + 24 * i + 20, (uint32_t)n[i]);
		memcpy(t + off, der[i], n[i]);
		off += n[i];
	}
	*out = t;
	*len = total;
	return 0;
}
