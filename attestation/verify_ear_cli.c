/* verify_ear_cli.c - `cvmm verify-ear TOKEN --ear-pubkey KEY.pem`: check an
 * EAR token that `cvmm verify --output ear` signed (ear.c) so that a key
 * broker can trust the verdict without running the verifier: signature
 * (ES256 only), expiry, nonce, and that every submodule's ear.status is
 * affirming (or warning with --accept-warning). Exit: 0 accepted, 1 token
 * invalid or the status not accepted, 2 usage or input error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attestation/attestation.h"
#include "common/common.h"

#define TOKEN_MAX (1 << 20)
#define NONCE_MAX 1024

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm verify-ear TOKEN|FILE|- --ear-pubkey KEY.pem [OPTIONS]\n"
		"Check an EAR attestation result (JWT, ES256) made by cvmm verify --output ear.\n"
		"  --ear-pubkey KEY.pem       the verifier's EC P-256 public key (PEM)\n"
		"  --nonce HEX                require eat_nonce to be this nonce\n"
		"  --accept-warning           accept a submodule status of warning too\n"
		"  --at TIME                  judge expiry at TIME instead of now\n"
		"  --json                     print the token's claims as JSON\n"
		"Exit status: 0 valid and affirming, 1 invalid, expired, wrong nonce or not affirming,\n"
		"2 usage or input error.\n");
}

/* TOKEN: the token itself, "-" for stdin, or a file holding it. */
static int read_token(const char *arg, char **out)
{
	uint8_t *data;
	size_t len;
	int ret;

	if (strcmp(arg, "-") && access(arg, F_OK)) {
		*out = strdup(arg);
		return *out ? 0 : err_set(ENOMEM, "out of memory");
	}
	if ((ret = file_read(strcmp(arg, "-") ? arg : "/dev/stdin", TOKEN_MAX, &data, &len)))
		return ret;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		len--;
	*out = malloc(len + 1);
	if (*out) {
		memcpy(*out, data, len);
		(*out)[len] = 0;
	}
	free(data);
	return *out ? 0 : err_set(ENOMEM, "out of memory");
}

int att_cli_verify_ear(int argc, char **argv)
{
	enum { O_PUB = 256, O_NONCE, O_WARN, O_AT, O_JSON };
	static const struct option opts[] = {
		{ "ear-pubkey", required_argument, NULL, O_PUB }, { "nonce", required_argument, NULL, O_NONCE },
		{ "accept-warning", no_argument, NULL, O_WARN },  { "at", required_argument, NULL, O_AT },
		{ "json", no_argument, NULL, O_JSON },		  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pub = NULL;
	uint8_t nonce[NONCE_MAX];
	size_t nonce_len = 0;
	bool warn_ok = false, json = false;
	time_t at = 0;
	char *token = NULL, why[256];
	json_t *claims = NULL, *sub;
	const char *name;
	int c, ret, code = 2;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_PUB:
			pub = optarg;
			break;
		case O_NONCE:
			if (hex_decode(optarg, nonce, sizeof(nonce), &nonce_len, "--nonce"))
				goto fail;
			if (!nonce_len) {
				err_set(EINVAL, "--nonce: empty");
				goto fail;
			}
			break;
		case O_WARN:
			warn_ok = true;
			break;
		case O_AT:
			if (att_parse_time(optarg, &at))
				goto fail;
			break;
		case O_JSON:
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm verify-ear --help)",
				argv[optind - 1]);
			goto fail;
		}
	}
	if (optind + 1 != argc) {
		err_set(EINVAL, optind == argc ? "give the EAR token (or a file holding it, or - for stdin)"
					       : "unexpected argument '%s'", argv[optind + 1]);
		goto fail;
	}
	if (!pub) {
		err_set(EINVAL, "--ear-pubkey KEY.pem is required");
		goto fail;
	}
	if (read_token(argv[optind], &token))
		goto fail;
	ret = att_ear_verify(token, pub, nonce, nonce_len, at ? at : time(NULL), &claims, why, sizeof(why));
	if (ret < 0)
		goto fail;
	if (ret == 1) {
		fprintf(stderr, "cvmm verify-ear: %s\n", why);
		code = 1;
		goto out;
	}
	code = 0;
	json_object_foreach(json_object_get(claims, "submods"), name, sub) {
		const char *st = json_string_value(json_object_get(sub, "ear.status"));

		if (!st || !(!strcmp(st, "affirming") || (warn_ok && !strcmp(st, "warning")))) {
			fprintf(stderr, "cvmm verify-ear: submodule %s: ear.status %s%s\n", name, st ? st : "(missing)",
				st && !strcmp(st, "warning") ? " (--accept-warning accepts it)" : "");
			code = 1;
		}
		if (!json)
			printf("%s (%s)\n", st ? st : "(no status)", name);
	}
	if (json) {
		char *s = json_dumps(claims, JSON_INDENT(2));

		if (!s) {
			err_set(ENOMEM, "out of memory");
			code = 2;
			goto fail;
		}
		printf("%s\n", s);
		free(s);
	}
	goto out;
fail:
	fprintf(stderr, "cvmm verify-ear: %s\n", err_msg());
	code = 2;
out:
	json_decref(claims);
	free(token);
	return code;
}
