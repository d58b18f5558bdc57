/* cvmm-agent - runs inside a confidential guest and asks the hardware for
 * evidence bound to a relying party's nonce (docs/agent.md). Statically
 * linked: it runs from minimal busybox initrds. Exit status like cvmm:
 * 0 success, 2 usage, input or I/O error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include <openssl/evp.h>

#include "attestation/agent/agent.h"
#include "attestation/agent/serve.h"
#include "attestation/proto/proto.h"
#include "sev/sev.h" /* SNP_SIM_PORT_BASE */

#define NONCE_MAX 1024 /* as cvmm verify --nonce */

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm-agent COMMAND [OPTIONS]\n\ncommands:\n"
		   "  report       write the hardware evidence for report_data = SHA-512(nonce)\n"
		   "  serve        answer evidence and secret requests from the host (vsock)\n"
		   "  rtmr-extend  extend a TDX RTMR (2 or 3) through the sim-tdx channel\n"
		   "\n'cvmm-agent COMMAND --help' lists the options of a command.\n"
		   "Exit status: 0 success, 2 usage, input or I/O error.\n");
}

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm-agent report --nonce HEX [OPTIONS]\n"
		"Ask the hardware for an attestation report with report_data = SHA-512(nonce)\n"
		"and write it unchanged (binary). Check it with: cvmm verify --nonce HEX ...\n\n"
		"  --nonce HEX                the relying party's nonce (1..%d bytes)\n"
		"  --out FILE                 write the evidence to FILE (atomically); default stdout\n"
		"  --certs-out FILE           also write the SNP certificate table (configfs auxblob\n"
		"                             or SNP_GET_EXT_REPORT)\n"
		"  --provider P               auto (default), configfs, sev-guest or tdx-guest\n"
		"  --tsm-root DIR             configfs-tsm mount (default %s)\n"
		"  --tsm-entry NAME           use the existing entry DIR/report/NAME (no mkdir/rmdir)\n"
		"  --privlevel N              SNP VMPL to request (0..3)\n"
		"\nauto uses configfs-tsm when DIR/report exists, else %s, else %s.\n",
		NONCE_MAX, AGENT_TSM_ROOT, AGENT_SEV_GUEST, AGENT_TDX_GUEST);
}

struct report_args {
	struct agent_req req;
	const char *out, *certs_out, *provider;
};

static int parse_report_args(int argc, char **argv, struct report_args *a)
{
	enum { O_NONCE = 256, O_OUT, O_CERTS, O_PROV, O_ROOT, O_ENTRY, O_PRIV };
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "out", required_argument, NULL, O_OUT },
		{ "certs-out", required_argument, NULL, O_CERTS },
		{ "provider", required_argument, NULL, O_PROV },
		{ "tsm-root", required_argument, NULL, O_ROOT },
		{ "tsm-entry", required_argument, NULL, O_ENTRY },
		{ "privlevel", required_argument, NULL, O_PRIV },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t nonce[NONCE_MAX];
	size_t nonce_len = 0;
	bool have_nonce = false;
	unsigned int n = 0;
	uint64_t v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_NONCE:
			if (hex_decode(optarg, nonce, sizeof(nonce), &nonce_len, "--nonce"))
				return -EINVAL;
			if (!nonce_len)
				return err_set(EINVAL, "--nonce: empty");
			have_nonce = true;
			break;
		case O_OUT:
			a->out = optarg;
			break;
		case O_CERTS:
			a->certs_out = optarg;
			a->req.want_certs = true;
			break;
		case O_PROV:
			a->provider = optarg;
			break;
		case O_ROOT:
			a->req.tsm_root = optarg;
			break;
		case O_ENTRY:
			a->req.tsm_entry = optarg;
			break;
		case O_PRIV:
			if (parse_u64(optarg, 3, &v, "--privlevel"))
				return -EINVAL;
			a->req.privlevel = (unsigned int)v;
			a->req.have_privlevel = true;
			break;
		case 'h':
			return 1;
		default:
			return err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm-agent report --help)",
				       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!have_nonce)
		return err_set(EINVAL, "--nonce HEX is required");
	if (strcmp(a->provider, "auto") && strcmp(a->provider, "configfs") && strcmp(a->provider, "sev-guest") &&
	    strcmp(a->provider, "tdx-guest"))
		return err_set(EINVAL, "--provider: '%s' is not auto, configfs, sev-guest or tdx-guest", a->provider);
	/* The binding cvmm verify --nonce checks (att_nonce_report_data). */
	if (!EVP_Digest(nonce, nonce_len, a->req.report_data, &n, EVP_sha512(), NULL) || n != 64)
		return err_set(EIO, "--nonce: SHA-512 failed");
	return 0;
}

static int get_evidence(const struct report_args *a, struct agent_evidence *ev)
{
	const char *p = a->provider;

	if (!strcmp(p, "auto")) {
		if (agent_configfs_present(a->req.tsm_root))
			p = "configfs";
		else if (!access(AGENT_SEV_GUEST, F_OK))
			p = "sev-guest";
		else if (!access(AGENT_TDX_GUEST, F_OK))
			p = "tdx-guest";
		else
			return err_set(ENOENT, "no attestation provider: %s/report (configfs-tsm), %s and %s are all "
					       "missing (is this a confidential guest?)",
				       a->req.tsm_root, AGENT_SEV_GUEST, AGENT_TDX_GUEST);
	}
	if (!strcmp(p, "configfs")) {
		if (!agent_configfs_present(a->req.tsm_root))
			return err_set(ENOENT, "configfs-tsm: %s/report is missing (kernel without TSM_REPORTS, or "
					       "configfs not mounted)",
				       a->req.tsm_root);
		return agent_configfs_report(&a->req, ev);
	}
	if (a->req.tsm_entry)
		return err_set(EINVAL, "--tsm-entry applies to the configfs provider only");
	if (!strcmp(p, "sev-guest"))
		return agent_sev_guest_report(AGENT_SEV_GUEST, &a->req, ev);
	return agent_tdx_guest_report(AGENT_TDX_GUEST, &a->req, ev);
}

static int write_stdout(const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(n < 0 ? errno : EIO, "stdout: write failed: %s", strerror(n < 0 ? errno : EIO));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int cmd_report(int argc, char **argv)
{
	struct report_args a = { .req.tsm_root = AGENT_TSM_ROOT, .provider = "auto" };
	struct agent_evidence ev = { 0 };
	int ret = parse_report_args(argc, argv, &a);

	if (ret > 0) {
		report_usage(stdout);
		return 0;
	}
	if (!ret)
		ret = get_evidence(&a, &ev);
	/* Certificates first: the evidence is what a caller waits for, and
	 * it should not appear unless everything asked for was written. */
	if (!ret && a.certs_out)
		ret = file_write(a.certs_out, ev.certs.data, ev.certs.len);
	if (!ret)
		ret = a.out ? file_write(a.out, ev.report.data, ev.report.len)
			    : write_stdout(ev.report.data, ev.report.len);
	agent_evidence_free(&ev);
	if (ret) {
		fprintf(stderr, "cvmm-agent report: %s\n", err_msg());
		return 2;
	}
	return 0;
}

static void serve_usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm-agent serve [OPTIONS]\n"
		"Serve attestation requests (docs/agent.md): evidence with report_data =\n"
		"SHA-512(\"cvmm-attest-v1\" NUL, nonce, this run's X25519 public key), and\n"
		"secrets wrapped to that key, stored as DIR/NAME (mode 0600).\n\n"
		"  --port P                   vsock port to listen on, any CID (default %u)\n"
		"  --listen ADDR              listen on vsock:CID:PORT or unix:PATH instead\n"
		"  --secret-dir DIR           where secrets are stored (default %s)\n"
		"  --provider P               auto (default), configfs, sev-guest, tdx-guest or sim\n"
		"  --sim-channel ADDR         the sim secure processor (default vsock:2:PORT,\n"
		"                             PORT = 0x%x + this guest's vsock CID)\n"
		"  --tsm-root DIR             configfs-tsm mount (default %s)\n"
		"  --once                     exit 0 after the first secret is stored\n"
		"\nauto uses configfs-tsm when DIR/report exists, else %s, else %s,\n"
		"else the sim channel if it answers.\n",
		ATT_AGENT_PORT, AGENT_SECRET_DIR, SNP_SIM_PORT_BASE, AGENT_TSM_ROOT, AGENT_SEV_GUEST, AGENT_TDX_GUEST);
}

/* The sim channel of this guest: host CID 2, port SNP_SIM_PORT_BASE + our
 * own CID. NULL when /dev/vsock cannot tell our CID. */
static const char *default_sim_channel(char *buf, size_t n)
{
	unsigned int cid = 0;
	int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return NULL;
	ok = !ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid);
	close(fd);
	if (!ok || cid == VMADDR_CID_ANY || cid > UINT32_MAX - SNP_SIM_PORT_BASE)
		return NULL;
	snprintf(buf, n, "vsock:%u:%u", VMADDR_CID_HOST, SNP_SIM_PORT_BASE + cid);
	return buf;
}

static int cmd_serve(int argc, char **argv)
{
	enum { O_PORT = 256, O_LISTEN, O_DIR, O_PROV, O_SIM, O_ONCE, O_ROOT };
	static const struct option opts[] = {
		{ "port", required_argument, NULL, O_PORT },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "secret-dir", required_argument, NULL, O_DIR },
		{ "provider", required_argument, NULL, O_PROV },
		{ "sim-channel", required_argument, NULL, O_SIM },
		{ "once", no_argument, NULL, O_ONCE },
		{ "tsm-root", required_argument, NULL, O_ROOT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_serve_opts o = { .secret_dir = AGENT_SECRET_DIR, .provider = "auto", .tsm_root = AGENT_TSM_ROOT };
	char listen_buf[64], sim_buf[64];
	uint64_t port = ATT_AGENT_PORT;
	int c, ret = 0;

	optind = 1;
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_PORT:
			ret = parse_u64(optarg, UINT32_MAX - 1, &port, "--port");
			break;
		case O_LISTEN:
			o.listen = optarg;
			break;
		case O_DIR:
			o.secret_dir = optarg;
			break;
		case O_PROV:
			o.provider = optarg;
			break;
		case O_SIM:
			o.sim_channel = optarg;
			break;
		case O_ONCE:
			o.once = true;
			break;
		case O_ROOT:
			o.tsm_root = optarg;
			break;
		case 'h':
			serve_usage(stdout);
			return 0;
		default:
			ret = err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm-agent serve --help)",
				      argv[optind - 1]);
		}
	}
	if (!ret && optind != argc)
		ret = err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!ret && !agent_provider_name_ok(o.provider))
		ret = err_set(EINVAL, "--provider: '%s' is not auto, configfs, sev-guest, tdx-guest or sim", o.provider);
	if (!ret && !*o.secret_dir)
		ret = err_set(EINVAL, "--secret-dir: empty");
	if (!ret && !o.listen) {
		snprintf(listen_buf, sizeof(listen_buf), "vsock:any:%u", (unsigned int)port);
		o.listen = listen_buf;
	}
	if (!ret && !o.sim_channel)
		o.sim_channel = default_sim_channel(sim_buf, sizeof(sim_buf));
	if (!ret)
		ret = agent_serve(&o);
	if (ret) {
		fprintf(stderr, "cvmm-agent serve: %s\n", err_msg());
		return 2;
	}
	return 0;
}

static void extend_usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm-agent rtmr-extend --index 2|3 (--digest HEX | --data TEXT) [OPTIONS]\n"
		"Extend RTMR[index] = SHA-384(RTMR || digest) through the sim-tdx channel and print\n"
		"the new value (hex); the event is logged in the CCEL that comes with every quote.\n\n"
		"  --index N           RTMR 2 or 3 (0 and 1 belong to the firmware and boot loader)\n"
		"  --digest HEX        the 48-byte digest to extend with\n"
		"  --data TEXT         extend with SHA-384(TEXT) instead; TEXT is also the event\n"
		"  --event TEXT        the event data logged (default: TEXT of --data, else empty)\n"
		"  --sim-channel ADDR  vsock:CID:PORT or unix:PATH (default: host, port 0x%x + our CID)\n",
		SNP_SIM_PORT_BASE);
}

static int cmd_extend(int argc, char **argv)
{
	enum { O_INDEX = 256, O_DIGEST, O_DATA, O_EVENT, O_SIM };
	static const struct option opts[] = {
		{ "index", required_argument, NULL, O_INDEX },   { "digest", required_argument, NULL, O_DIGEST },
		{ "data", required_argument, NULL, O_DATA },     { "event", required_argument, NULL, O_EVENT },
		{ "sim-channel", required_argument, NULL, O_SIM }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *digest_hex = NULL, *data = NULL, *event = NULL, *sim = NULL;
	uint8_t digest[48], rtmr[48];
	char sim_buf[64], hex[97];
	uint64_t index = 0;
	int c, ret = 0;

	optind = 1;
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_INDEX: ret = parse_u64(optarg, 3, &index, "--index"); break;
		case O_DIGEST: digest_hex = optarg; break;
		case O_DATA: data = optarg; break;
		case O_EVENT: event = optarg; break;
		case O_SIM: sim = optarg; break;
		case 'h':
			extend_usage(stdout);
			return 0;
		default:
			ret = err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm-agent rtmr-extend --help)",
				      argv[optind - 1]);
		}
	}
	if (!ret && optind != argc)
		ret = err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!ret && index < 2)
		ret = err_set(EINVAL, "--index: give 2 or 3 (RTMR0 and RTMR1 are the firmware's and the boot loader's)");
	if (!ret && !digest_hex == !data)
		ret = err_set(EINVAL, "give exactly one of --digest HEX and --data TEXT");
	if (!ret && digest_hex)
		ret = hex_decode_exact(digest_hex, digest, sizeof(digest), "--digest");
	if (!ret && data && !EVP_Digest(data, strlen(data), digest, NULL, EVP_sha384(), NULL))
		ret = err_set(EIO, "SHA-384 failed");
	if (!event)
		event = data ? data : "";
	if (!ret && !sim && !(sim = default_sim_channel(sim_buf, sizeof(sim_buf))))
		ret = err_set(ENOENT, "no --sim-channel and no local vsock CID to derive it from");
	if (!ret)
		ret = agent_sim_tdx_extend(sim, (uint32_t)index, digest, (const uint8_t *)event, strlen(event), rtmr);
	if (ret) {
		fprintf(stderr, "cvmm-agent rtmr-extend: %s\n", err_msg());
		return 2;
	}
	hex_encode(rtmr, sizeof(rtmr), hex);
	printf("%s\n", hex);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rtmr-extend"))
		return cmd_extend(argc - 1, argv + 1);
	fprintf(stderr, "cvmm-agent: unknown command '%s' (try cvmm-agent --help)\n", argv[1]);
	return 2;
}
