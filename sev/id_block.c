/* The SEV-SNP ID block and ID authentication information structure (AMD
 * SEV-SNP Firmware ABI specification, SNP_LAUNCH_FINISH: "ID_BLOCK" and
 * "ID_AUTH_INFO"; ECDSA P-384 signatures and public keys in the formats of
 * its appendix "Digital Signatures"), and `cvmm id-block`, which prints them
 * in the lines of sev-snp-measure's snp-create-id-block so QEMU's
 * `-object sev-snp-guest,id-block=...,id-auth=...` takes them unchanged.
 * All the cryptography is OpenSSL's. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/common.h"
#include "sev.h"

/* The signature structure: R and S little-endian, 72 bytes each, then
 * reserved to 512 bytes. The public key: u32 curve (2 = P-384), QX and QY
 * little-endian, 72 bytes each, then reserved to 1028 bytes. */
#define SIG_RS_LEN 72u
#define CURVE_P384 2u
/* ID_AUTH_INFO offsets */
#define AUTH_ID_KEY_ALGO   0x000
#define AUTH_AUTH_KEY_ALGO 0x004
#define AUTH_ID_BLOCK_SIG  0x040
#define AUTH_ID_KEY        0x240
#define AUTH_ID_KEY_SIG    0x680
#define AUTH_AUTHOR_KEY    0x880
#define ALGO_ECDSA_P384_SHA384 1u

int snp_amd_pubkey(EVP_PKEY *key, const char *what, uint8_t out[SNP_AMD_PUBKEY_LEN])
{
	char group[64] = "";
	BIGNUM *x = NULL, *y = NULL;
	int ret = 0;

	memset(out, 0, SNP_AMD_PUBKEY_LEN);
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) ||
	    strcmp(group, "secp384r1"))
		return err_set(EINVAL, "%s: not an ECDSA P-384 key (SNP ID and author keys are P-384%s%s)", what,
			       *group ? ", this is " : "", group);
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) || BN_bn2lebinpad(x, out + 4, SIG_RS_LEN) < 0 ||
	    BN_bn2lebinpad(y, out + 4 + SIG_RS_LEN, SIG_RS_LEN) < 0)
		ret = err_set(EINVAL, "%s: cannot read the public point", what);
	else
		put_le32(out, CURVE_P384);
	BN_free(x);
	BN_free(y);
	return ret;
}

int snp_sign(EVP_PKEY *key, const char *what, const uint8_t *data, size_t len, uint8_t out[SNP_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[256];
	const unsigned char *p = der;
	size_t der_len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	int ret = 0;

	memset(out, 0, SNP_SIG_LEN);
	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &der_len, data, len) != 1 || !(sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len))) {
		ret = err_set(EINVAL, "%s: ECDSA P-384 signing failed", what);
		goto out;
	}
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2lebinpad(r, out, SIG_RS_LEN) < 0 || BN_bn2lebinpad(s, out + SIG_RS_LEN, SIG_RS_LEN) < 0)
		ret = err_set(EINVAL, "%s: signature does not fit", what);
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return ret;
}

void snp_id_block_encode(const struct snp_id_block *b, uint8_t out[SNP_ID_BLOCK_LEN])
{
	memset(out, 0, SNP_ID_BLOCK_LEN);
	memcpy(out, b->ld, SNP_DIGEST_LEN);
	memcpy(out + 0x30, b->family_id, 16);
	memcpy(out + 0x40, b->image_id, 16);
	put_le32(out + 0x50, 1); /* VERSION */
	put_le32(out + 0x54, b->guest_svn);
	put_le64(out + 0x58, b->policy);
}

static int sha384(const uint8_t *d, size_t n, uint8_t out[48])
{
	unsigned int len = 0;

	if (EVP_Digest(d, n, out, &len, EVP_sha384(), NULL) != 1 || len != 48)
		return err_set(EIO, "SHA-384 failed");
	return 0;
}

int snp_id_auth_build(const uint8_t block[SNP_ID_BLOCK_LEN], EVP_PKEY *id_key, EVP_PKEY *author_key,
		      struct snp_id_auth *a)
{
	uint8_t *p = a->auth;
	int ret;

	memset(a, 0, sizeof(*a));
	put_le32(p + AUTH_ID_KEY_ALGO, ALGO_ECDSA_P384_SHA384);
	if ((ret = snp_amd_pubkey(id_key, "--idkey", p + AUTH_ID_KEY)) ||
	    (ret = snp_sign(id_key, "--idkey", block, SNP_ID_BLOCK_LEN, p + AUTH_ID_BLOCK_SIG)) ||
	    (ret = sha384(p + AUTH_ID_KEY, SNP_AMD_PUBKEY_LEN, a->id_key_digest)))
		return ret;
	if (!author_key)
		return 0;
	put_le32(p + AUTH_AUTH_KEY_ALGO, ALGO_ECDSA_P384_SHA384);
	if ((ret = snp_amd_pubkey(author_key, "--authorkey", p + AUTH_AUTHOR_KEY)) ||
	    (ret = snp_sign(author_key, "--authorkey", p + AUTH_ID_KEY, SNP_AMD_PUBKEY_LEN, p + AUTH_ID_KEY_SIG)) ||
	    (ret = sha384(p + AUTH_AUTHOR_KEY, SNP_AMD_PUBKEY_LEN, a->author_key_digest)))
		return ret;
	a->author_key_en = true;
	return 0;
}

/* ---------------- cvmm id-block ---------------- */

static const char usage_text[] =
	"usage: cvmm id-block --measurement DIGEST --idkey PEM --authorkey PEM [OPTIONS]\n"
	"Build the SEV-SNP ID block and ID authentication information for QEMU's\n"
	"-object sev-snp-guest,id-block=...,id-auth=... (the lines of sev-snp-measure's snp-create-id-block).\n"
	"  --measurement DIGEST  the launch digest (48 bytes: base64 as cvmm measure --output-format base64\n"
	"                        prints it, or 96 hex digits)\n"
	"  --idkey PEM           ID key: ECDSA P-384 private key (signs the ID block)\n"
	"  --authorkey PEM       author key: ECDSA P-384 private key (signs the ID key)\n"
	"  --family-id HEX       FAMILY_ID, 16 bytes (default zeros)\n"
	"  --image-id HEX        IMAGE_ID, 16 bytes (default zeros)\n"
	"  --guest-svn N         GUEST_SVN (default 0)\n"
	"  --policy P            guest POLICY the launch must use (default 0x30000)\n"
	"  --json                print the fields as JSON\n"
	"Exit status: 0 success, 2 usage or input error.\n";

enum { OPT_LD = 256, OPT_IDKEY, OPT_AUTHORKEY, OPT_FAMILY, OPT_IMAGE, OPT_SVN, OPT_POLICY, OPT_JSON };

static const struct option long_opts[] = {
	{ "measurement", required_argument, NULL, OPT_LD },
	{ "idkey", required_argument, NULL, OPT_IDKEY },
	{ "authorkey", required_argument, NULL, OPT_AUTHORKEY },
	{ "family-id", required_argument, NULL, OPT_FAMILY },
	{ "image-id", required_argument, NULL, OPT_IMAGE },
	{ "guest-svn", required_argument, NULL, OPT_SVN },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Standard padded base64 of exactly n bytes (OpenSSL's decoder; padding
 * counted off). */
static int b64_decode_exact(const char *s, uint8_t *out, size_t n)
{
	size_t len = strlen(s), pad = 0;
	unsigned char *buf;
	int got;

	if (!len || len % 4)
		return -EINVAL;
	buf = malloc(len);
	if (!buf)
		return err_set(ENOMEM, "out of memory");
	got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	if (got < 0 || (size_t)got - pad != n) {
		free(buf);
		return -EINVAL;
	}
	memcpy(out, buf, n);
	free(buf);
	return 0;
}

static char *b64(const uint8_t *d, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, d, (int)n);
	return s;
}

static int load_key(const char *flag, const char *path, EVP_PKEY **key)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	BIO *bio;
	int ret = file_read_any(path, 1u << 20, &pem, &len);

	if (ret)
		return err_wrap(-ret, "%s", flag);
	bio = BIO_new_mem_buf(pem, (int)len);
	*key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(pem, len);
	free(pem);
	if (!*key)
		return err_set(EINVAL, "%s %s: not a PEM private key (unencrypted EC P-384 expected)", flag, path);
	return 0;
}

static int json_out(const struct snp_id_block *b, const struct snp_id_auth *a, char *b64_block, char *b64_auth,
		    struct bytebuf *out)
{
	char hex[2 * SNP_DIGEST_LEN + 1], fam[33], img[33], pol[24], ikd[97], akd[97];
	json_t *o;
	char *text;
	int ret;

	hex_encode(b->ld, SNP_DIGEST_LEN, hex);
	hex_encode(b->family_id, 16, fam);
	hex_encode(b->image_id, 16, img);
	hex_encode(a->id_key_digest, 48, ikd);
	hex_encode(a->author_key_digest, 48, akd);
	snprintf(pol, sizeof(pol), "0x%llx", (unsigned long long)b->policy);
	o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:s}", "id_block", b64_block, "id_auth", b64_auth,
		      "measurement", hex, "version", 1, "guest_svn", (json_int_t)b->guest_svn, "policy", pol,
		      "family_id", fam, "image_id", img, "id_key_digest", ikd, "author_key_digest",
		      a->author_key_en ? akd : "");
	if (!o)
		return err_set(ENOMEM, "out of memory");
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return err_set(ENOMEM, "out of memory");
	ret = bb_printf(out, "%s\n", text);
	free(text);
	return ret;
}

static int id_block_main(int argc, char **argv, struct bytebuf *out, bool *help)
{
	const char *ld = NULL, *idkey = NULL, *authorkey = NULL, *family = NULL, *image = NULL, *svn = NULL,
		   *policy = NULL;
	struct snp_id_block b = { .policy = SNP_ID_BLOCK_DEFAULT_POLICY };
	uint8_t block[SNP_ID_BLOCK_LEN];
	struct snp_id_auth *a = NULL;
	EVP_PKEY *ik = NULL, *ak = NULL;
	char *sb = NULL, *sa = NULL, *sik = NULL, *sak = NULL;
	bool json = false;
	uint64_t v;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_LD: ld = optarg; break;
		case OPT_IDKEY: idkey = optarg; break;
		case OPT_AUTHORKEY: authorkey = optarg; break;
		case OPT_FAMILY: family = optarg; break;
		case OPT_IMAGE: image = optarg; break;
		case OPT_SVN: svn = optarg; break;
		case OPT_POLICY: policy = optarg; break;
		case OPT_JSON: json = true; break;
		case 'h': *help = true; return 0;
		default:
			if (optopt && optopt >= OPT_LD)
				return err_set(EINVAL, "%s needs a value", argv[optind - 1]);
			return err_set(EINVAL, "unknown option '%s' (try cvmm id-block --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(EINVAL, "unexpected argument '%s' (try cvmm id-block --help)", argv[optind]);
	if (!ld)
		return err_set(EINVAL, "missing --measurement DIGEST (base64 or hex, 48 bytes)");
	if (!idkey || !authorkey)
		return err_set(EINVAL, "missing key files for the ID block (--idkey PEM and --authorkey PEM)");
	/* 64 base64 characters or 96 hex digits: never both */
	if (b64_decode_exact(ld, b.ld, SNP_DIGEST_LEN) &&
	    hex_decode_exact(ld, b.ld, SNP_DIGEST_LEN, "--measurement"))
		return err_set(EINVAL, "--measurement: '%s' is not a 48-byte digest in base64 or hex", ld);
	if (family && (ret = hex_decode_exact(family, b.family_id, 16, "--family-id")))
		return ret;
	if (image && (ret = hex_decode_exact(image, b.image_id, 16, "--image-id")))
		return ret;
	if (svn && (ret = parse_u64(svn, UINT32_MAX, &v, "--guest-svn")))
		return ret;
	b.guest_svn = svn ? (uint32_t)v : 0;
	if (policy && (ret = parse_u64(policy, UINT64_MAX, &b.policy, "--policy")))
		return ret;
	/* SNP ABI, guest policy: bit 17 is reserved, must be one */
	if (!(b.policy & (1ull << 17)))
		return err_set(EINVAL, "--policy %#llx: bit 17 (reserved, must be one) is clear; the firmware would refuse "
				       "the launch", (unsigned long long)b.policy);
	snp_id_block_encode(&b, block);
	a = calloc(1, sizeof(*a));
	if (!a)
		return err_set(ENOMEM, "out of memory");
	if ((ret = load_key("--idkey", idkey, &ik)) || (ret = load_key("--authorkey", authorkey, &ak)) ||
	    (ret = snp_id_auth_build(block, ik, ak, a)))
		goto out;
	sb = b64(block, SNP_ID_BLOCK_LEN);
	sa = b64(a->auth, SNP_ID_AUTH_LEN);
	sik = b64(a->id_key_digest, 48);
	sak = b64(a->author_key_digest, 48);
	if (!sb || !sa || !sik || !sak) {
		ret = err_set(ENOMEM, "out of memory");
		goto out;
	}
	if (json)
		ret = json_out(&b, a, sb, sa, out);
	else /* snp-create-id-block's lines (sevsnpmeasure/id_block.py) */
		ret = bb_printf(out, "id-block=%s,id-auth=%s\nid_key_hash: %s\nauthor_key: %s\n", sb, sa, sik, sak);
out:
	free(sb);
	free(sa);
	free(sik);
	free(sak);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(ak);
	free(a);
	return ret;
}

int sev_cli_id_block(int argc, char **argv)
{
	struct bytebuf out = {0};
	bool help = false;
	int ret;

	err_clear();
	ret = id_block_main(argc, argv, &out, &help);
	if (!ret && help) {
		fputs(usage_text, stdout);
		bb_free(&out);
		return 0;
	}
	if (!ret && fwrite(out.data, 1, out.len, stdout) != out.len)
		ret = err_set(EIO, "writing the result to stdout failed");
	bb_free(&out);
	if (ret) {
		fprintf(stderr, "cvmm id-block: %s\n", err_msg());
		return 2;
	}
	return 0;
}
