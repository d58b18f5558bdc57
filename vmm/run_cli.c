/* run_cli.c - `cvmm run`: parse the flags into a struct vm_config and run
 * the VM (vm.c). Exit status: 0 power-off or SIGTERM, 2 usage/input/setup
 * error, 3 guest reset, 4 guest crash (docs/run.md). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "tdx/tdx.h"
#include "vmm/host_info.h"
#include "vmm/api.h"
#include "vmm/virtio/virtio.h"
#include "vmm/vmm.h"
#include "vmm/vmm_core.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm run --kernel BZIMAGE [OPTIONS]\n"
		"\n"
		"Boot a Linux guest under KVM with virtio-pci devices.\n"
		"\n"
		"  --platform P         kvm (default), sim-snp, sim-tdx; snp, sev-es, sev, tdx: cvmm run\n"
		"                       --platform P --help; auto: the best hardware platform cvmm host-info\n"
		"                       finds, else kvm (the choice is printed on stderr)\n"
		"  --kernel FILE        x86-64 bzImage (boot protocol 2.12+, 64-bit entry)\n"
		"  --firmware FILE      boot this OVMF image first (kvm platform): mapped at the\n"
		"                       top of 4 GiB, the kernel, initrd and command line given\n"
		"                       to it through fw_cfg as QEMU does (docs/firmware.md)\n"
		"  --initrd FILE        initial ramdisk\n"
		"  --cmdline S          kernel command line (default \"console=ttyS0 panic=-1\",\n"
		"                       or \"console=hvc0 panic=-1\" with --console virtio)\n"
		"  --mem SIZE[,hugepages=on][,shared=on][,prealloc=on][,thp=off]\n"
		"                       guest RAM, K/M/G suffixes (default 512M); 2 MiB huge\n"
		"                       pages, a shared memfd, faulted in up front\n"
		"  --numa node=N        bind guest RAM to host NUMA node N (mbind)\n"
		"  --vcpus N            vCPUs, 1-%d (default 1)\n"
		"  --disk PATH[,ro][,direct=on][,queues=N]\n"
		"                       virtio-blk on a raw image (repeatable, up to %d): I/O\n"
		"                       threads with io_uring, O_DIRECT, N queues (1-4)\n"
		"  --rng                virtio-rng fed by getrandom(2)\n"
		"  --console serial|virtio\n"
		"                       guest console on stdin/stdout: 8250 UART at 0x3f8\n"
		"                       (default) or virtio-console (hvc0)\n"
		"  --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX][,vhost=on|off]\n"
		"                       virtio-net on a tap interface; vhost-net (the kernel\n"
		"                       data path) by default when /dev/vhost-net opens\n"
		"  --vsock CID          virtio-vsock (vhost-vsock) with guest CID >= 3\n"
		"  --debug-console      also expose the 8250 UART (output to stderr when the\n"
		"                       console is virtio; always for confidential platforms)\n"
		"  --print-manifest FILE\n"
		"                       write the device manifest (DTB) to FILE\n"
		"  --config FILE        the guest from a VmConfig file (Cloud Hypervisor's JSON,\n"
		"                       docs/api.md) instead of --kernel ... --vsock\n"
		"  --api-socket PATH    serve the control API on this Unix socket (docs/api.md);\n"
		"                       a guest reboot then boots it again in place\n"
		"  --api-socket-group G also group G may use the socket\n"
		"\n"
		"sim-snp and attestation (docs/attestation.md):\n"
		"  --policy P           SNP guest policy (default 0x30000)\n"
		"  --state-dir DIR      sim secure processor key store (default\n"
		"                       $XDG_STATE_HOME/cvmm/sim-snp)\n"
		"  --attest-listen ADDR:PORT\n"
		"                       serve the HTTPS attestation endpoint (needs --vsock)\n"
		"  --tls-cert F --tls-key F\n"
		"                       its certificate and key (PEM); default: self-signed,\n"
		"                       fingerprint printed\n"
		"  --attest-agent-port P\n"
		"                       vsock port of cvmm-agent in the guest (default 4050)\n"
		"\n"
		"confinement (docs/security.md):\n"
		"  --seccomp=kill|log|off\n"
		"                       per-thread seccomp allow-lists (vcpu, vmm, api); kill\n"
		"                       (default) ends cvmm on any call off its thread's list,\n"
		"                       log only logs it (development), off warns\n"
		"  --print-seccomp      print the allow-lists as JSON and exit\n"
		"  --jail [DIR]         run jailed: new mount/PID/IPC/UTS/cgroup (and network,\n"
		"                       unless --net or --attest-listen) namespaces, root DIR\n"
		"                       (default /run/cvmm/jail/cvmm-PID, a tmpfs) holding only\n"
		"                       the guest's files and devices; needs --user\n"
		"  --user UID:GID       the unprivileged ids the jailed VMM runs as (no\n"
		"                       capabilities, no_new_privs)\n"
		"  --cgroup-mem SIZE, --cgroup-cpus N, --cgroup-pids N\n"
		"                       limits of the jail's cgroup v2 leaf\n"
		"  --selinux=off|permissive|enforcing-required\n"
		"                       sVirt: a unique MCS pair per guest, the VMM in svirt_t,\n"
		"                       images svirt_image_t (default permissive: label where\n"
		"                       SELinux is on, say so where it is off)\n"
		"\n"
		"Exit status: 0 guest powered off (or SIGTERM/SIGINT), 2 usage/input/setup\n"
		"error, 3 guest reset, 4 guest crashed (triple fault, KVM internal error).\n",
		VM_MAX_VCPUS, VMM_MAX_DISKS);
}

/* getopt value of --firmware (docs/firmware.md) */
enum { O_FIRMWARE = 1024 };

static int parse_mac(const char *s, uint8_t mac[6])
{
	return api_parse_mac(s, mac, "--net: mac=");
}

static int parse_net(char *arg, struct vm_config *c)
{
	for (char *save = NULL, *tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "tap=", 4) && tok[4]) {
			c->net_tap = tok + 4;
		} else if (!strncmp(tok, "mac=", 4)) {
			int rc = parse_mac(tok + 4, c->net_mac);
			if (rc)
				return rc;
			c->net_mac_set = true;
		} else if (!strcmp(tok, "vhost=on")) {
			c->net_vhost = VIRTIO_NET_VHOST_ON;
		} else if (!strcmp(tok, "vhost=off")) {
			c->net_vhost = VIRTIO_NET_VHOST_OFF;
		} else {
			return err_set(EINVAL, "--net: unknown option '%s' (tap=NAME[,mac=..][,vhost=on|off])", tok);
		}
	}
	if (!c->net_tap)
		return err_set(EINVAL, "--net: tap=NAME is required");
	return 0;
}

/* PATH[,ro|rw][,direct=on|off][,queues=N]: options are taken off the end,
 * so a path may itself hold commas. */
static int parse_disk(char *arg, struct vm_config *c)
{
	if (c->ndisks == VMM_MAX_DISKS)
		return err_set(EINVAL, "--disk: at most %d disks", VMM_MAX_DISKS);
	bool ro = false, direct = false;
	unsigned queues = 0;
	char *comma;
	while ((comma = strrchr(arg, ','))) {
		const char *o = comma + 1;
		uint64_t v;
		if (!strcmp(o, "ro") || !strcmp(o, "rw"))
			ro = !strcmp(o, "ro");
		else if (!strcmp(o, "direct=on") || !strcmp(o, "direct=off"))
			direct = !strcmp(o, "direct=on");
		else if (!strncmp(o, "queues=", 7)) {
			int rc = parse_u64(o + 7, VMM_DISK_QUEUES_MAX, &v, "--disk queues");
			if (rc)
				return rc;
			if (!v)
				return err_set(EINVAL, "--disk: queues=0: at least 1");
			queues = (unsigned)v;
		} else if (strchr(o, '='))
			return err_set(EINVAL, "--disk: unknown option '%s' (ro, direct=on|off, queues=N)", o);
		else
			break; /* part of the path */
		*comma = 0;
	}
	if (!*arg)
		return err_set(EINVAL, "--disk: empty path");
	c->disk[c->ndisks].path = arg;
	c->disk[c->ndisks].ro = ro;
	c->disk[c->ndisks].direct = direct;
	c->disk[c->ndisks].queues = queues;
	c->ndisks++;
	return 0;
}

struct jail_opts {
	bool on, user;
	const char *dir;
	uid_t uid;
	gid_t gid;
	uint64_t mem, pids;
	unsigned cpus;
	enum confine_selinux_mode selinux;
	const char *api_socket, *api_group, *config;
};

static int parse_args(int argc, char **argv, struct vm_config *c, bool *help, bool *print_seccomp,
		      struct jail_opts *jo)
{
	enum { O_PLATFORM = 256, O_KERNEL, O_INITRD, O_CMDLINE, O_MEM, O_NUMA, O_VCPUS, O_DISK, O_RNG,
	       O_CONSOLE, O_NET, O_VSOCK, O_DEBUG_CONSOLE, O_MANIFEST, O_POLICY, O_STATE_DIR, O_ATTEST_LISTEN,
	       O_TLS_CERT, O_TLS_KEY, O_AGENT_PORT, O_SECCOMP, O_PRINT_SECCOMP, O_JAIL, O_USER, O_CG_MEM, O_CG_CPUS, O_CG_PIDS, O_SELINUX, O_API_SOCKET,
	       O_API_GROUP, O_CONFIG, O_HELP };
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "mem", required_argument, NULL, O_MEM },
		{ "numa", required_argument, NULL, O_NUMA },
		{ "firmware", required_argument, NULL, O_FIRMWARE },
		{ "vcpus", required_argument, NULL, O_VCPUS },
		{ "disk", required_argument, NULL, O_DISK },
		{ "rng", no_argument, NULL, O_RNG },
		{ "console", required_argument, NULL, O_CONSOLE },
		{ "net", required_argument, NULL, O_NET },
		{ "vsock", required_argument, NULL, O_VSOCK },
		{ "debug-console", no_argument, NULL, O_DEBUG_CONSOLE },
		{ "print-manifest", required_argument, NULL, O_MANIFEST },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "state-dir", required_argument, NULL, O_STATE_DIR },
		{ "attest-listen", required_argument, NULL, O_ATTEST_LISTEN },
		{ "tls-cert", required_argument, NULL, O_TLS_CERT },
		{ "tls-key", required_argument, NULL, O_TLS_KEY },
		{ "attest-agent-port", required_argument, NULL, O_AGENT_PORT },
		{ "seccomp", required_argument, NULL, O_SECCOMP },
		{ "print-seccomp", no_argument, NULL, O_PRINT_SECCOMP },
		{ "jail", optional_argument, NULL, O_JAIL },
		{ "user", required_argument, NULL, O_USER },
		{ "cgroup-mem", required_argument, NULL, O_CG_MEM },
		{ "cgroup-cpus", required_argument, NULL, O_CG_CPUS },
		{ "cgroup-pids", required_argument, NULL, O_CG_PIDS },
		{ "selinux", required_argument, NULL, O_SELINUX },
		{ "api-socket", required_argument, NULL, O_API_SOCKET },
		{ "api-socket-group", required_argument, NULL, O_API_GROUP },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int o, rc = 0;

	opterr = 0;
	optind = 1;
	while (!rc && (o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case O_PLATFORM: c->platform = optarg; break;
		case O_KERNEL: c->kernel = optarg; break;
		case O_INITRD: c->initrd = optarg; break;
		case O_CMDLINE: c->cmdline = optarg; break;
		case O_FIRMWARE: c->firmware = optarg; break;
		case O_MEM: rc = gm_parse_mem(optarg, &c->mem, &c->mem_opts); break;
		case O_NUMA: rc = gm_parse_numa(optarg, &c->mem_opts); break;
		case O_VCPUS:
			rc = parse_u64(optarg, VM_MAX_VCPUS, &v, "--vcpus");
			if (!rc && v == 0)
				rc = err_set(EINVAL, "--vcpus: must be at least 1");
			c->vcpus = (unsigned)v;
			break;
		case O_DISK: rc = parse_disk(optarg, c); break;
		case O_RNG: c->rng = true; break;
		case O_CONSOLE:
			if (!strcmp(optarg, "virtio"))
				c->console_virtio = true;
			else if (!strcmp(optarg, "serial"))
				c->console_virtio = false;
			else
				rc = err_set(EINVAL, "--console: '%s': expected serial or virtio", optarg);
			break;
		case O_NET: rc = parse_net(optarg, c); break;
		case O_VSOCK:
			rc = parse_u64(optarg, UINT32_MAX - 1, &c->vsock_cid, "--vsock");
			if (!rc && c->vsock_cid < 3)
				rc = err_set(EINVAL, "--vsock: CID %llu is reserved (use 3 or more)",
					     (unsigned long long)c->vsock_cid);
			break;
		case O_DEBUG_CONSOLE: c->debug_console = true; break;
		case O_MANIFEST: c->manifest_out = optarg; break;
		case O_POLICY:
			rc = parse_u64(optarg, UINT64_MAX, &c->policy, "--policy");
			if (!rc && !(c->policy & (1ull << 17)))
				rc = err_set(EINVAL, "--policy %s: bit 17 must be set (SNP ABI, guest policy)", optarg);
			break;
		case O_STATE_DIR: c->state_dir = optarg; break;
		case O_ATTEST_LISTEN: c->attest_listen = optarg; break;
		case O_TLS_CERT: c->tls_cert = optarg; break;
		case O_TLS_KEY: c->tls_key = optarg; break;
		case O_AGENT_PORT:
			rc = parse_u64(optarg, UINT32_MAX, &v, "--attest-agent-port");
			c->attest_agent_port = (unsigned)v;
			break;
		case O_SECCOMP: rc = confine_seccomp_parse(optarg, &c->seccomp); break;
		case O_PRINT_SECCOMP: *print_seccomp = true; break;
		case O_JAIL:
			jo->on = true;
			/* --jail DIR as well as --jail=DIR */
			if (optarg)
				jo->dir = optarg;
			else if (optind < argc && argv[optind][0] != '-')
				jo->dir = argv[optind++];
			break;
		case O_USER: rc = confine_jail_parse_user(optarg, &jo->uid, &jo->gid); jo->user = !rc; break;
		case O_CG_MEM: rc = parse_size(optarg, &jo->mem, "--cgroup-mem"); break;
		case O_CG_CPUS:
			rc = parse_u64(optarg, 4096, &v, "--cgroup-cpus");
			jo->cpus = (unsigned)v;
			break;
		case O_CG_PIDS: rc = parse_u64(optarg, 1u << 22, &jo->pids, "--cgroup-pids"); break;
		case O_SELINUX: rc = confine_selinux_parse(optarg, &jo->selinux); break;
		case O_API_SOCKET: jo->api_socket = optarg; break;
		case O_API_GROUP: jo->api_group = optarg; break;
		case O_CONFIG: jo->config = optarg; break;
		case O_HELP:
		case 'h': *help = true; return 0;
		default:
			rc = err_set(EINVAL, "unknown or incomplete option '%s' (try cvmm run --help)",
				     argv[optind - 1]);
		}
	}
	if (!rc && optind < argc)
		rc = err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!rc && *print_seccomp)
		return 0;
	if (!rc && jo->config && c->kernel)
		rc = err_set(EINVAL, "--config FILE describes the guest: no --kernel with it");
	if (!rc && !c->kernel && !jo->config)
		rc = err_set(EINVAL, "--kernel is required (try cvmm run --help)");
	if (!rc && jo->api_group && !jo->api_socket)
		rc = err_set(EINVAL, "--api-socket-group goes with --api-socket");
	if (!rc && jo->api_socket && jo->on)
		rc = err_set(EINVAL, "--api-socket with --jail is not supported yet (docs/api.md)");
	if (!rc && c->attest_listen && !c->vsock_cid)
		rc = err_set(EINVAL, "--attest-listen relays to the guest agent over vsock: give --vsock CID too");
	if (!rc && jo->on && !jo->user)
		rc = err_set(EINVAL, "--jail needs --user UID:GID (the unprivileged ids to run as)");
	if (!rc && !jo->on && (jo->user || jo->mem || jo->cpus || jo->pids))
		rc = err_set(EINVAL, "--user and --cgroup-* go with --jail");
	if (!rc && !c->tls_cert != !c->tls_key)
		rc = err_set(EINVAL, "--tls-cert and --tls-key go together");
	if (!rc && c->vsock_cid && !strncmp(c->platform, "sim-", 4) && c->vsock_cid > UINT32_MAX - SNP_SIM_PORT_BASE)
		rc = err_set(EINVAL, "--vsock %llu: sim-snp serves its guest on vsock port 0x%x + CID: use a CID "
				     "below %u", (unsigned long long)c->vsock_cid, SNP_SIM_PORT_BASE,
			     UINT32_MAX - SNP_SIM_PORT_BASE);
	if (!rc && c->firmware && strcmp(c->platform, "kvm") && strcmp(c->platform, "auto"))
		rc = err_set(EINVAL, "--firmware with --platform %s: firmware boot is for the kvm platform (snp, "
				     "sev-es, sev and tdx take --firmware in their own launch)", c->platform);
	return rc;
}

/* Put the guest's files and devices into the jail and point the
 * configuration at them (paths inside the jail). */
static int jail_prepare(struct vm_config *c, const struct jail_opts *jo, struct confine_jail *j)
{
	char name[16];
	struct stat st;
	uint64_t fsize = 0;

	memset(j, 0, sizeof(*j));
	j->dir = jo->dir;
	j->uid = jo->uid;
	j->gid = jo->gid;
	j->new_net = !c->net_tap && !c->attest_listen;
	j->mem_max = jo->mem;
	j->cpus = jo->cpus;
	j->pids_max = jo->pids;
	j->nproc = c->vcpus + 64;
	c->kernel = confine_jail_add_file(j, c->kernel, "kernel", false, false);
	if (c->initrd)
		c->initrd = confine_jail_add_file(j, c->initrd, "initrd", false, false);
	if (c->firmware)
		c->firmware = confine_jail_add_file(j, c->firmware, "firmware", false, false);
	for (unsigned i = 0; i < c->ndisks; i++) {
		if (!c->disk[i].ro && !stat(c->disk[i].path, &st) && (uint64_t)st.st_size > fsize)
			fsize = (uint64_t)st.st_size;
		snprintf(name, sizeof(name), "disk%u", i);
		c->disk[i].path = confine_jail_add_file(j, c->disk[i].path, name, !c->disk[i].ro, false);
	}
	if (c->manifest_out)
		c->manifest_out = confine_jail_add_file(j, c->manifest_out, "manifest.dtb", true, true);
	if (c->tls_cert) {
		c->tls_cert = confine_jail_add_file(j, c->tls_cert, "tls-cert.pem", false, false);
		c->tls_key = confine_jail_add_file(j, c->tls_key, "tls-key.pem", false, false);
	}
	/* writes to regular files: the largest writable image, and room for
	 * a console log on stdout */
	j->fsize = fsize > (1ull << 30) ? fsize : (1ull << 30);
	int rc = confine_jail_add_dev(j, "/dev/kvm");
	if (!rc && c->net_tap)
		rc = confine_jail_add_dev(j, "/dev/net/tun");
	if (!rc && c->net_tap && c->net_vhost != VIRTIO_NET_VHOST_OFF &&
	    (c->net_vhost == VIRTIO_NET_VHOST_ON || !access("/dev/vhost-net", R_OK | W_OK)))
		rc = confine_jail_add_dev(j, "/dev/vhost-net");
	if (!rc && c->vsock_cid)
		rc = confine_jail_add_dev(j, "/dev/vhost-vsock");
	/* the sim platforms' key store: bound in, read and written as the uid */
	if (!rc && !strncmp(c->platform, "sim-", 4)) {
		if (!c->state_dir)
			rc = err_set(EINVAL, "--jail with --platform %s: give --state-dir (it is bound into the jail)",
				     c->platform);
		else
			c->state_dir = confine_jail_add_file(j, c->state_dir, "state", true, false);
	}
	return rc;
}

/* The hardware CC platforms have their own launch path (sev/snp_run_cli.c). */
static const char *wants_cc_backend(int argc, char **argv)
{
	static const char *const cc[] = { "snp", "sev-es", "sev", "tdx" };

	for (int i = 1; i < argc; i++)
		for (size_t k = 0; k < ARRAY_SIZE(cc); k++)
			if ((!strcmp(argv[i], "--platform") && i + 1 < argc && !strcmp(argv[i + 1], cc[k])) ||
			    (!strncmp(argv[i], "--platform=", 11) && !strcmp(argv[i] + 11, cc[k])))
				return cc[k];
	return NULL;
}

/* Every thread cvmm run starts (vCPUs, event loop, I/O threads, endpoint)
 * gets a 512 KiB stack instead of glibc's 8 MiB: what they touch is a few
 * tens of KiB, and an 8 MiB mapping is large enough for the kernel to back
 * it with a 2 MiB transparent huge page, which showed as 2 MiB of the VMM's
 * own memory (bench/nested-io). No 2 MiB page fits in 512 KiB. */
#define RUN_THREAD_STACK (512u << 10)

static void small_thread_stacks(void)
{
	pthread_attr_t a;

	if (pthread_attr_init(&a))
		return;
	if (!pthread_attr_setstacksize(&a, RUN_THREAD_STACK))
		pthread_setattr_default_np(&a);
	pthread_attr_destroy(&a);
}

int vmm_cli_run(int argc, char **argv)
{
	small_thread_stacks();
	/* an explicit --platform auto becomes what the host offers (host_info.c) */
	if (vmm_resolve_auto(&cc_io_real, "", argc, argv)) {
		fprintf(stderr, "cvmm run: %s\n", err_msg());
		return VMM_EXIT_ERROR;
	}
	const char *cc = wants_cc_backend(argc, argv);
	if (cc)
		return !strcmp(cc, "tdx") ? tdx_cli_run(argc, argv) : sev_cli_run(argc, argv);
	struct vm_config c = { .platform = "auto", .mem = 512ull << 20, .vcpus = 1,
			       .policy = SIM_SNP_DEFAULT_POLICY, .attest_agent_port = 4050 };
	bool help = false, print_seccomp = false;
	struct jail_opts jo = { 0 };
	if (parse_args(argc, argv, &c, &help, &print_seccomp, &jo)) {
		fprintf(stderr, "cvmm run: %s\n", err_msg());
		return VMM_EXIT_ERROR;
	}
	if (help) {
		usage(stdout);
		return 0;
	}
	json_t *config_json = NULL;
	if (jo.config && api_vmconfig_load(jo.config, &c, &config_json)) {
		fprintf(stderr, "cvmm run: --config %s\n", err_msg());
		return VMM_EXIT_ERROR;
	}
	if (print_seccomp) {
		if (confine_seccomp_dump(stdout)) {
			fprintf(stderr, "cvmm run: %s\n", err_msg());
			return VMM_EXIT_ERROR;
		}
		return 0;
	}
	/* sVirt first, on the host's paths: label, then run again in svirt_t */
	static struct confine_svirt sv;
	sv.mode = jo.selinux;
	sv.file[sv.nfiles++] = c.kernel;
	if (c.initrd)
		sv.file[sv.nfiles++] = c.initrd;
	if (c.firmware)
		sv.file[sv.nfiles++] = c.firmware;
	for (unsigned i = 0; i < c.ndisks; i++) {
		sv.writable[sv.nfiles] = !c.disk[i].ro;
		sv.file[sv.nfiles++] = c.disk[i].path;
	}
	if (!confine_svirt_resume(&sv)) {
		if (confine_svirt_start(&sv)) {
			fprintf(stderr, "cvmm run: %s\n", err_msg());
			return VMM_EXIT_ERROR;
		}
		if (sv.active) {
			char **av = calloc((size_t)argc + 2, sizeof(*av));
			if (av) {
				av[0] = "cvmm";
				memcpy(av + 1, argv, (size_t)argc * sizeof(*av));
				confine_svirt_exec(&sv, av);
			}
			fprintf(stderr, "cvmm run: %s\n", av ? err_msg() : "out of memory");
			confine_svirt_end(&sv);
			return VMM_EXIT_ERROR;
		}
		if (sv.selinux_off)
			c.launch_notice = "SELinux is disabled on this host: no sVirt labels for this guest (seccomp "
					  "and the jail still apply)";
	}
	if (jo.on) {
		static struct confine_jail j;
		bool in_child;

		if (jail_prepare(&c, &jo, &j) || confine_jail_enter(&j, &in_child)) {
			fprintf(stderr, "cvmm run: %s\n", err_msg());
			return VMM_EXIT_ERROR;
		}
		/* here: the jailed child (the launcher ends in confine_jail_enter) */
		fprintf(stderr, "cvmm run: jailed in %s as %u:%u (Landlock %s%s%s)\n", j.root, (unsigned)j.uid,
			(unsigned)j.gid, j.landlock ? "on" : "not available", j.cgroup[0] ? ", cgroup " : "", j.cgroup);
	}
	/* with sVirt this is the launcher's child: the launcher puts the labels back */
	int status = jo.api_socket ? vmm_api_run(&c, &c, config_json, jo.api_socket, jo.api_group) : vmm_run(&c);
	if (!jo.api_socket)
		json_decref(config_json); /* c's strings pointed into it */
	if (status == VMM_EXIT_ERROR || status == VMM_EXIT_CRASH)
		fprintf(stderr, "cvmm run: %s\n", err_msg());
	return status;
}
