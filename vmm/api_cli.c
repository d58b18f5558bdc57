/* api_cli.c - the commands around the control API (docs/api.md):
 *   cvmm serve --api-socket PATH    the VMM with no VM, driven over the API
 *   cvmm run ... --api-socket PATH  (run_cli.c) the same with a VM booted
 *   cvmm ctl --api-socket PATH CMD  a client of the API (libcurl)
 *   cvmm config check FILE          a guest config (VmConfig JSON) checked */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/common.h"
#include "vmm/api.h"
#include "vmm/vmm.h"
#include "vmm/vmm_core.h"

/* ---------------- serve (and run --api-socket) ---------------- */

int vmm_api_run(const struct vm_config *base, const struct vm_config *preset, json_t *preset_json,
		const char *socket_path, const char *group)
{
	struct api_server *srv = NULL;
	sigset_t set;
	int status;

	/* before any thread: the control thread's signalfd gets these */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	confine_seccomp_set_mode(base->seccomp);
	struct api_vmm *a = api_vmm_create(base);
	if (!a) {
		json_decref(preset_json);
		return err_set(ENOMEM, "out of memory"), VMM_EXIT_ERROR;
	}
	if ((preset && api_vmm_preset(a, preset, preset_json)) || api_server_start(socket_path, group, a, &srv)) {
		api_vmm_destroy(a);
		return VMM_EXIT_ERROR;
	}
	fprintf(stderr, "cvmm: API socket %s\n", socket_path);
	status = api_vmm_loop(a, preset != NULL, preset != NULL);
	api_server_stop(srv);
	api_vmm_destroy(a);
	return status;
}

static void serve_usage(FILE *f)
{
	fprintf(f, "usage: cvmm serve --api-socket PATH [OPTIONS]\n"
		   "\n"
		   "Serve the VM lifecycle API of Cloud Hypervisor on a Unix socket, with no VM\n"
		   "until vm.create (docs/api.md).\n"
		   "\n"
		   "  --api-socket PATH    the socket (mode 0600; a stale socket is replaced)\n"
		   "  --api-socket-group G also group G may connect (mode 0660)\n"
		   "  --platform P         platform of VMs without platform.sev_snp/tdx (default auto)\n"
		   "  --seccomp=kill|log|off, --state-dir DIR, --attest-listen ADDR:PORT,\n"
		   "  --tls-cert F, --tls-key F, --attest-agent-port P\n"
		   "                       as for cvmm run, for every VM this VMM boots\n"
		   "\n"
		   "Exit status: 0 after vmm.shutdown or SIGTERM/SIGINT, 2 setup error.\n");
}

int vmm_cli_serve(int argc, char **argv)
{
	enum { O_SOCK = 256, O_GROUP, O_PLATFORM, O_SECCOMP, O_STATE, O_LISTEN, O_CERT, O_KEY, O_PORT, O_HELP };
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, O_SOCK }, { "api-socket-group", required_argument, NULL, O_GROUP },
		{ "platform", required_argument, NULL, O_PLATFORM }, { "seccomp", required_argument, NULL, O_SECCOMP },
		{ "state-dir", required_argument, NULL, O_STATE }, { "attest-listen", required_argument, NULL, O_LISTEN },
		{ "tls-cert", required_argument, NULL, O_CERT }, { "tls-key", required_argument, NULL, O_KEY },
		{ "attest-agent-port", required_argument, NULL, O_PORT }, { "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct vm_config base = { .platform = "auto", .mem = 512ull << 20, .vcpus = 1,
				  .policy = SIM_SNP_DEFAULT_POLICY, .attest_agent_port = 4050 };
	const char *sock = NULL, *group = NULL;
	uint64_t v;
	int o, rc = 0;

	opterr = 0;
	optind = 1;
	while (!rc && (o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case O_SOCK: sock = optarg; break;
		case O_GROUP: group = optarg; break;
		case O_PLATFORM: base.platform = optarg; break;
		case O_SECCOMP: rc = confine_seccomp_parse(optarg, &base.seccomp); break;
		case O_STATE: base.state_dir = optarg; break;
		case O_LISTEN: base.attest_listen = optarg; break;
		case O_CERT: base.tls_cert = optarg; break;
		case O_KEY: base.tls_key = optarg; break;
		case O_PORT:
			rc = parse_u64(optarg, UINT32_MAX, &v, "--attest-agent-port");
			base.attest_agent_port = (unsigned)v;
			break;
		case O_HELP:
		case 'h': serve_usage(stdout); return 0;
		default: rc = err_set(EINVAL, "unknown or incomplete option '%s' (try cvmm serve --help)", argv[optind - 1]);
		}
	}
	if (!rc && optind < argc)
		rc = err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!rc && !sock)
		rc = err_set(EINVAL, "--api-socket PATH is required");
	if (!rc && !cc_platform_find(base.platform))
		rc = err_set(EINVAL, "--platform %s: not available (%s)", base.platform, cc_platform_names());
	if (!rc && !base.tls_cert != !base.tls_key)
		rc = err_set(EINVAL, "--tls-cert and --tls-key go together");
	if (rc) {
		fprintf(stderr, "cvmm serve: %s\n", err_msg());
		return VMM_EXIT_ERROR;
	}
	int status = vmm_api_run(&base, NULL, NULL, sock, group);
	if (status == VMM_EXIT_ERROR)
		fprintf(stderr, "cvmm serve: %s\n", err_msg());
	return status;
}

/* ---------------- ctl ---------------- */

static const struct ctl_cmd {
	const char *name, *endpoint;
	bool put, file;
} ctl_cmds[] = {
	{ "ping", "vmm.ping", false, false }, { "info", "vm.info", false, false },
	{ "counters", "vm.counters", false, false }, { "attestation", "vm.attestation", false, false },
	{ "create", "vm.create", true, true }, { "boot", "vm.boot", true, false },
	{ "pause", "vm.pause", true, false }, { "resume", "vm.resume", true, false },
	{ "shutdown", "vm.shutdown", true, false }, { "reboot", "vm.reboot", true, false },
	{ "power-button", "vm.power-button", true, false }, { "delete", "vm.delete", true, false },
	{ "shutdown-vmm", "vmm.shutdown", true, false },
};

static void ctl_usage(FILE *f)
{
	fprintf(f, "usage: cvmm ctl --api-socket PATH COMMAND [--json]\n"
		   "\n"
		   "A client of the API socket of cvmm serve / cvmm run --api-socket (or of\n"
		   "Cloud Hypervisor). Commands:\n"
		   "  ping, info, counters, attestation   show (--json: the API's JSON as it is)\n"
		   "  pause, resume, shutdown, reboot, power-button, boot, delete\n"
		   "  create FILE                         vm.create with a VmConfig file\n"
		   "  shutdown-vmm                        vmm.shutdown: end the VMM\n"
		   "\n"
		   "Exit status: 0 done, 1 the API refused (its status and message on stderr),\n"
		   "2 usage error or no connection.\n");
}

struct buf {
	char *p;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;

	if (b->len + add > (16u << 20))
		return 0;
	char *np = realloc(b->p, b->len + add + 1);
	if (!np)
		return 0;
	memcpy(np + b->len, data, add);
	b->p = np;
	b->len += add;
	b->p[b->len] = 0;
	return add;
}

/* a string member of a reply, or "-" (the server may be any server) */
static const char *str(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "-";
}

static void print_human(const struct ctl_cmd *cmd, json_t *j)
{
	const char *k;
	json_t *v;

	if (!strcmp(cmd->name, "ping")) {
		printf("%s (pid %lld)\n", str(json_object_get(j, "version")),
		       (long long)json_integer_value(json_object_get(j, "pid")));
	} else if (!strcmp(cmd->name, "info")) {
		json_t *c = json_object_get(j, "config"), *p = json_object_get(c, "payload");
		json_t *plat = json_object_get(c, "platform");
		printf("state: %s\nvcpus: %lld\nmemory: %lld MiB\nkernel: %s\n",
		       str(json_object_get(j, "state")),
		       (long long)json_integer_value(json_object_get(json_object_get(c, "cpus"), "boot_vcpus")),
		       (long long)(json_integer_value(json_object_get(json_object_get(c, "memory"), "size")) >> 20),
		       str(json_object_get(p, "kernel")));
		printf("platform: %s\n", json_is_true(json_object_get(plat, "sev_snp")) ? "sev_snp"
					 : json_is_true(json_object_get(plat, "tdx")) ? "tdx" : "none");
	} else if (!strcmp(cmd->name, "counters")) {
		json_object_foreach(j, k, v) {
			const char *ck;
			json_t *cv;
			printf("%s", k);
			json_object_foreach(v, ck, cv)
				printf(" %s=%lld", ck, (long long)json_integer_value(cv));
			printf("\n");
		}
	} else {
		json_object_foreach(j, k, v) {
			if (json_is_string(v))
				printf("%s: %s\n", k, json_string_value(v));
			else if (json_is_null(v))
				printf("%s: -\n", k);
		}
	}
}

int vmm_cli_ctl(int argc, char **argv)
{
	const char *sock = NULL, *file = NULL;
	const struct ctl_cmd *cmd = NULL;
	bool json = false;
	int rc = 0;

	for (int i = 1; i < argc && !rc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			ctl_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--api-socket") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strncmp(argv[i], "--api-socket=", 13)) {
			sock = argv[i] + 13;
		} else if (argv[i][0] == '-') {
			rc = err_set(EINVAL, "unknown or incomplete option '%s' (try cvmm ctl --help)", argv[i]);
		} else if (!cmd) {
			for (size_t k = 0; k < ARRAY_SIZE(ctl_cmds); k++)
				if (!strcmp(argv[i], ctl_cmds[k].name))
					cmd = &ctl_cmds[k];
			if (!cmd)
				rc = err_set(EINVAL, "unknown command '%s' (try cvmm ctl --help)", argv[i]);
		} else if (cmd->file && !file) {
			file = argv[i];
		} else {
			rc = err_set(EINVAL, "unexpected argument '%s'", argv[i]);
		}
	}
	if (!rc && !sock)
		rc = err_set(EINVAL, "--api-socket PATH is required");
	if (!rc && !cmd)
		rc = err_set(EINVAL, "a command is required (try cvmm ctl --help)");
	if (!rc && cmd->file && !file)
		rc = err_set(EINVAL, "%s needs a VmConfig FILE", cmd->name);
	uint8_t *body = NULL;
	size_t body_len = 0;
	if (!rc && file)
		rc = file_read(file, API_BODY_MAX, &body, &body_len);
	if (rc) {
		fprintf(stderr, "cvmm ctl: %s\n", err_msg());
		free(body);
		return 2;
	}

	char url[128], errbuf[CURL_ERROR_SIZE] = "";
	struct buf out = { 0 };
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	long status = 0;
	snprintf(url, sizeof(url), "http://localhost/api/v1/%s", cmd->endpoint);
	CURLcode cr = !c ? CURLE_FAILED_INIT : CURLE_OK;
	if (!cr) {
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
		if (cmd->put) {
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? (char *)body : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
		}
		cr = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	free(body);
	int ret = 0;
	if (cr) {
		fprintf(stderr, "cvmm ctl: %s: %s\n", sock, errbuf[0] ? errbuf : curl_easy_strerror(cr));
		ret = 2;
	} else if (status >= 300) {
		json_t *e = out.p ? json_loads(out.p, 0, NULL) : NULL;
		const char *msg = json_string_value(json_array_get(e, 0));
		fprintf(stderr, "cvmm ctl: %s: %ld: %s\n", cmd->endpoint, status, msg ? msg : out.p ? out.p : "");
		json_decref(e);
		ret = 1;
	} else if (out.p && json) {
		printf("%s\n", out.p);
	} else if (out.p) {
		json_t *j = json_loads(out.p, 0, NULL);
		if (!j) {
			fprintf(stderr, "cvmm ctl: %s: the reply is not JSON\n", cmd->endpoint);
			ret = 1;
		} else {
			print_human(cmd, j);
		}
		json_decref(j);
	}
	free(out.p);
	return ret;
}

/* ---------------- config check ---------------- */

static int check_file(const char *what, const char *path, bool writable)
{
	struct stat st;

	if (stat(path, &st))
		return err_set(errno, "%s %s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return err_set(EINVAL, "%s %s: not a regular file or block device", what, path);
	if (access(path, writable ? R_OK | W_OK : R_OK))
		return err_set(errno, "%s %s: %s", what, path, strerror(errno));
	return 0;
}

int vmm_config_check(const char *path, struct vm_config *c, json_t **owner)
{
	struct bzimage bz;
	uint8_t *k = NULL;
	size_t klen;
	int rc = api_vmconfig_load(path, c, owner);

	if (!rc && !cc_platform_find(c->platform))
		rc = err_set(EINVAL, "platform %s: not available in this build (%s)", c->platform, cc_platform_names());
	if (!rc && !(rc = file_read(c->kernel, 256u << 20, &k, &klen)))
		rc = vmm_bzimage_parse(k, klen, c->kernel, &bz);
	free(k);
	if (!rc && c->initrd)
		rc = check_file("payload.initramfs", c->initrd, false);
	if (!rc && c->firmware)
		rc = check_file("payload.firmware", c->firmware, false);
	for (unsigned i = 0; !rc && i < c->ndisks; i++)
		rc = check_file("disk", c->disk[i].path, !c->disk[i].ro);
	if (!rc && c->net_tap && access("/dev/net/tun", R_OK | W_OK))
		rc = err_set(errno, "net[0].tap %s: /dev/net/tun: %s", c->net_tap, strerror(errno));
	if (rc && *owner) {
		json_decref(*owner);
		*owner = NULL;
	}
	return rc;
}

int vmm_cli_config(int argc, char **argv)
{
	struct vm_config c = { .platform = "auto", .mem = 512ull << 20, .vcpus = 1 };
	json_t *owner = NULL;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: cvmm config check FILE\n\n"
		       "Check a guest configuration (Cloud Hypervisor's VmConfig JSON, the format of\n"
		       "vm.create and of /etc/cvmm/NAME.json for cvmm@NAME.service): every field known\n"
		       "and supported, the kernel a bzImage, the initramfs and disks readable.\n"
		       "Exit status: 0 good, 2 not (one line on stderr names what).\n");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "check")) {
		fprintf(stderr, "cvmm config: usage: cvmm config check FILE\n");
		return 2;
	}
	if (vmm_config_check(argv[2], &c, &owner)) {
		fprintf(stderr, "cvmm config: %s\n", err_msg());
		return 2;
	}
	printf("%s: ok: platform %s, %u vCPU%s, %llu MiB, kernel %s%s%s, %u disk%s%s%s\n", argv[2], c.platform,
	       c.vcpus, c.vcpus == 1 ? "" : "s", (unsigned long long)(c.mem >> 20), c.kernel,
	       c.initrd ? ", initramfs " : "", c.initrd ? c.initrd : "", c.ndisks, c.ndisks == 1 ? "" : "s",
	       c.net_tap ? ", tap " : "", c.net_tap ? c.net_tap : "");
	json_decref(owner);
	return 0;
}
