/* endpoint_cli.c - `cvmm endpoint`: the attestation endpoint alone, without
 * a guest (docs/attestation.md "Running the endpoint alone"), for tests,
 * benchmarks and an agent reached over a Unix socket. `cvmm run
 * --attest-listen` starts the same endpoint next to its guest. Serves until
 * SIGTERM or SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/attestation.h"
#include "common/common.h"

#define LAUNCH_MAX (1 << 20)
#define MANIFEST_MAX (1 << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm endpoint --listen ADDR:PORT --agent ADDR [OPTIONS]\n"
		"Serve the attestation endpoint (HTTPS, TLS 1.3) relaying to a cvmm-agent until SIGTERM/SIGINT.\n"
		"  --listen ADDR:PORT         address to listen on (IPv4, or [IPv6]:PORT; port 0 picks one)\n"
		"  --agent ADDR               the agent: vsock:CID:PORT or unix:PATH\n"
		"  --tls-cert FILE --tls-key FILE   PEM certificate and key (default: a fresh self-signed one)\n"
		"  --launch-json FILE         launch inputs to put into every bundle (a JSON object)\n"
		"  --manifest FILE            device manifest DTB to put into every bundle\n"
		"  --max-concurrent N         connections served at once (default 16)\n"
		"  --agent-timeout MS         how long to wait for the agent (default 30000)\n");
}

struct endpoint_args {
	struct att_endpoint_cfg cfg;
	const char *launch_path, *manifest_path;
};

static int parse_args(int argc, char **argv, struct endpoint_args *a)
{
	enum { O_LISTEN = 256, O_AGENT, O_CERT, O_KEY, O_LAUNCH, O_MANIFEST, O_MAX, O_TIMEOUT };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "agent", required_argument, NULL, O_AGENT },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_KEY },
		{ "launch-json", required_argument, NULL, O_LAUNCH },
		{ "manifest", required_argument, NULL, O_MANIFEST },
		{ "max-concurrent", required_argument, NULL, O_MAX },
		{ "agent-timeout", required_argument, NULL, O_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			a->cfg.listen = optarg;
			break;
		case O_AGENT:
			a->cfg.agent_addr = optarg;
			break;
		case O_CERT:
			a->cfg.tls_cert = optarg;
			break;
		case O_KEY:
			a->cfg.tls_key = optarg;
			break;
		case O_LAUNCH:
			a->launch_path = optarg;
			break;
		case O_MANIFEST:
			a->manifest_path = optarg;
			break;
		case O_MAX:
			if (parse_u64(optarg, 1024, &v, "--max-concurrent") || !v)
				return err_set(EINVAL, "--max-concurrent: give 1..1024");
			a->cfg.max_concurrent = (unsigned)v;
			break;
		case O_TIMEOUT:
			if (parse_u64(optarg, 600000, &v, "--agent-timeout") || !v)
				return err_set(EINVAL, "--agent-timeout: give 1..600000 milliseconds");
			a->cfg.agent_timeout_ms = (unsigned)v;
			break;
		case 'h':
			return 1;
		default:
			return err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm endpoint --help)",
				       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!a->cfg.listen || !a->cfg.agent_addr)
		return err_set(EINVAL, "--listen ADDR:PORT and --agent ADDR are required");
	if (!a->cfg.tls_cert != !a->cfg.tls_key)
		return err_set(EINVAL, "--tls-cert and --tls-key go together");
	return 0;
}

static int load_inputs(struct endpoint_args *a, uint8_t **manifest)
{
	json_error_t jerr;
	uint8_t *data;
	size_t len;
	int ret;

	if (a->launch_path) {
		if ((ret = file_read(a->launch_path, LAUNCH_MAX, &data, &len)))
			return ret;
		a->cfg.launch = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
		free(data);
		if (!json_is_object(a->cfg.launch))
			return err_set(EINVAL, "%s: not a JSON object (%s)", a->launch_path,
				       a->cfg.launch ? "another JSON value" : jerr.text);
	}
	if (a->manifest_path) {
		if ((ret = file_read(a->manifest_path, MANIFEST_MAX, manifest, &len)))
			return ret;
		a->cfg.manifest = *manifest;
		a->cfg.manifest_len = len;
	}
	return 0;
}

int att_cli_endpoint(int argc, char **argv)
{
	struct endpoint_args a = { 0 };
	struct att_endpoint *ep = NULL;
	uint8_t *manifest = NULL;
	sigset_t set, old;
	int ret, sig;

	ret = parse_args(argc, argv, &a);
	if (ret == 1) {
		usage(stdout);
		return 0;
	}
	if (ret || (ret = load_inputs(&a, &manifest)))
		goto out;
	/* Block the stop signals before the server threads start (they
	 * inherit the mask), then wait for one here. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (!(ret = att_endpoint_start(&a.cfg, &ep))) {
		sigwait(&set, &sig);
		att_endpoint_stop(ep);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	if (ret)
		fprintf(stderr, "cvmm endpoint: %s\n", err_msg());
	json_decref(a.cfg.launch);
	free(manifest);
	return ret ? 2 : 0;
}
