/* tdx_run_cli.c - `cvmm run --platform tdx`: the TDVF launch plan as
 * `cvmm measure --platform tdx` builds it (fw_tdvf_parse + tdx_plan_build),
 * handed to the TDX backend (backend_tdx.c). With --dry-run FILE the TD is
 * built against the recording ioctl stand-in (vmm/ioctl_rec.h): FILE gets
 * one JSON line per ioctl, stdout the MRTD the TDX module would report. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "backend_tdx.h"
#include "tdx_uapi.h"
#include "vmm/confine/confine.h"
#include "vmm/kvm_uapi.h"
#include "vmm/vmm_core.h"

#define TDX_DEFAULT_MEM   (2ull << 30)    /* as cvmm measure --platform tdx */
#define TDX_ATTR_SEPT_VE_DISABLE (1ull << 28) /* QEMU's default TD attribute */
#define TDX_XFAM_X87_SSE  0x3ull          /* the XFAM bits every TD has */

static const char usage_text[] =
	"usage: cvmm run --platform tdx --firmware TDVF.fd [--vcpus N] [--mem SIZE] [--dry-run FILE]\n"
	"  --kernel K --initrd I --cmdline C  accepted (TDVF measures them into RTMRs, not MRTD)\n"
	"  --mrconfigid HEX --mrowner HEX --mrownerconfig HEX   48-byte TD_PARAMS values\n"
	"  --attributes V       TD attributes (default 0x10000000, SEPT_VE_DISABLE)\n"
	"  --xfam V             XFAM (default 0x3)\n"
	"  --tdx-qgs unix:PATH|vsock:CID:PORT\n"
	"                       the quote generation service the TD's GetQuote requests go to\n"
	"                       (Intel's qgsd: vsock:2:4050); without it GetQuote answers\n"
	"                       QGS_UNAVAILABLE\n"
	"  --print-seccomp      print the allow-lists as JSON and exit\n"
	"  --seccomp=kill|log|off   per-thread seccomp allow-lists once the TD is finalized\n"
	"                       (vcpu, vmm, api for the GetQuote threads; docs/security.md);\n"
	"                       kill (default) ends cvmm on a call off its list, log only logs it,\n"
	"                       off installs none\n"
	"  --dry-run FILE       build the TD against the ioctl recorder: FILE gets one JSON line per\n"
	"                       ioctl, stdout the MRTD; nothing runs\n";

static int num(const char *flag, const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return err_set(EINVAL, "%s: '%s' is not a number", flag, s);
	return 0;
}

static int host_check(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), types;

	if (fd < 0)
		return err_set(ENODEV, "--platform tdx: /dev/kvm is missing (%s): no KVM on this host", strerror(errno));
	types = cc_io_real.ioctl(&cc_io_real, fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_VM_TYPES);
	close(fd);
	if (types < 0 || !(types & (1 << KVM_X86_TDX_VM)))
		return err_set(ENODEV, "--platform tdx: KVM does not offer KVM_X86_TDX_VM (KVM_CAP_VM_TYPES %#x): needs an "
				       "Intel Xeon host with TDX enabled in the BIOS and kvm_intel.tdx=1",
			       types < 0 ? 0 : types);
	return 0;
}

/* After FINALIZE on a real host: the vCPUs with KVM_EXIT_TDX served, until
 * the TD stops; a bare debug console on stderr. Each thread confines
 * itself with the --seccomp mode: the GetQuote dispatcher (api) here, the
 * vCPUs (vcpu) and this thread (vmm) in cc_run_vcpus. */
static int run_td(struct tdx_vm *vm, const struct qgs_addr *qgs, enum confine_seccomp_mode seccomp)
{
	struct cc_vm_view view;
	struct cc_mem mem;
	struct cc_runner r;
	struct tdx_run_ctx t;
	int console = STDERR_FILENO, st;

	confine_seccomp_set_mode(seccomp);
	if (seccomp == CONFINE_SECCOMP_OFF)
		fprintf(stderr, "cvmm run: warning: --seccomp=off: the VMM runs with every system call; a device "
				"model bug is the host's problem\n");
	tdx_backend_view(vm, &view);
	cc_mem_init(&mem, view.io, view.vm_fd, view.slot, view.nslot, true);
	tdx_run_ctx_init(&t, &mem, qgs);
	cc_runner_init(&r, &mem);
	r.io = cc_console_io;
	r.io_ctx = &console;
	r.tdx = tdx_exit;
	r.tdx_ctx = &t;
	if ((st = tdx_run_ctx_start(&t)) == 0) {
		r.wake_fd = t.notify_fd;
		r.wake = tdx_run_ctx_wake;
		r.wake_ctx = &t;
		st = cc_run_vm(&view, &r);
	}
	tdx_run_ctx_drain(&t); /* no quote worker may outlive the TD's memory */
	cc_mem_destroy(&mem);
	if (st < 0) {
		fprintf(stderr, "cvmm run: --platform tdx: %s\n", err_msg());
		return VMM_EXIT_ERROR;
	}
	fprintf(stderr, "cvmm run: %s (quotes: %llu, failed %llu)\n", r.why, (unsigned long long)t.quotes,
		(unsigned long long)t.quote_errors);
	return st;
}

int tdx_cli_run(int argc, char **argv)
{
	enum { O_PLATFORM = 256, O_FW, O_KERNEL, O_INITRD, O_CMDLINE, O_VCPUS, O_MEM, O_DRY, O_CFG, O_OWN, O_OWNCFG,
	       O_ATTR, O_XFAM, O_QGS, O_SECCOMP, O_PRINT_SECCOMP };
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, O_PLATFORM }, { "firmware", required_argument, NULL, O_FW },
		{ "kernel", required_argument, NULL, O_KERNEL }, { "initrd", required_argument, NULL, O_INITRD },
		{ "cmdline", required_argument, NULL, O_CMDLINE }, { "vcpus", required_argument, NULL, O_VCPUS },
		{ "mem", required_argument, NULL, O_MEM }, { "dry-run", required_argument, NULL, O_DRY },
		{ "mrconfigid", required_argument, NULL, O_CFG }, { "mrowner", required_argument, NULL, O_OWN },
		{ "mrownerconfig", required_argument, NULL, O_OWNCFG },
		{ "attributes", required_argument, NULL, O_ATTR }, { "xfam", required_argument, NULL, O_XFAM },
		{ "tdx-qgs", required_argument, NULL, O_QGS },
		{ "seccomp", required_argument, NULL, O_SECCOMP },
		{ "print-seccomp", no_argument, NULL, O_PRINT_SECCOMP },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct tdx_launch_req q = { .mem = TDX_DEFAULT_MEM, .vcpus = 1, .attributes = TDX_ATTR_SEPT_VE_DISABLE,
				    .xfam = TDX_XFAM_X87_SSE };
	const char *firmware = NULL, *dry = NULL, *kernel = NULL, *initrd = NULL, *cmdline = NULL;
	struct tdvf_metadata *md = NULL;
	struct launch_plan plan = {0};
	struct fw_image fw;
	bool fw_loaded = false;
	struct cc_rec *rec = NULL;
	struct tdx_vm *vm = NULL;
	struct qgs_addr qgs;
	bool has_qgs = false;
	enum confine_seccomp_mode seccomp = CONFINE_SECCOMP_KILL;
	bool print_seccomp = false;
	uint64_t v;
	int o, rc = 0, status = 0;

	err_clear();
	opterr = 0;
	optind = 0;
	while (!rc && (o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case O_PLATFORM:
			if (strcmp(optarg, "tdx"))
				rc = err_set(EINVAL, "--platform %s: this path launches tdx only", optarg);
			break;
		case O_FW: firmware = optarg; break;
		case O_KERNEL: kernel = optarg; break;
		case O_INITRD: initrd = optarg; break;
		case O_CMDLINE: cmdline = optarg; break;
		case O_VCPUS:
			if (!(rc = num("--vcpus", optarg, &v)) && (!v || v > 576))
				rc = err_set(ERANGE, "--vcpus: %s is out of range (1..576)", optarg);
			q.vcpus = (unsigned)v;
			break;
		case O_MEM: rc = parse_size(optarg, &q.mem, "--mem"); break;
		case O_DRY: dry = optarg; break;
		case O_CFG: rc = hex_decode_exact(optarg, q.mrconfigid, TDX_MR_SIZE, "--mrconfigid"); break;
		case O_OWN: rc = hex_decode_exact(optarg, q.mrowner, TDX_MR_SIZE, "--mrowner"); break;
		case O_OWNCFG: rc = hex_decode_exact(optarg, q.mrownerconfig, TDX_MR_SIZE, "--mrownerconfig"); break;
		case O_ATTR: rc = num("--attributes", optarg, &q.attributes); break;
		case O_XFAM: rc = num("--xfam", optarg, &q.xfam); break;
		case O_QGS: rc = qgs_parse_addr(optarg, &qgs); has_qgs = !rc; break;
		case O_SECCOMP: rc = confine_seccomp_parse(optarg, &seccomp); break;
		case O_PRINT_SECCOMP: print_seccomp = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default:
			rc = err_set(EINVAL, "unknown option or missing value '%s' (try cvmm run --platform tdx --help)",
				     argv[optind - 1]);
		}
	}
	if (!rc && optind < argc)
		rc = err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!rc && print_seccomp) {
		if (!confine_seccomp_dump(stdout))
			return 0;
		rc = -EIO;
	}
	if (!rc && !firmware)
		rc = err_set(EINVAL, "--platform tdx needs --firmware TDVF.fd");
	if (!rc && (initrd || cmdline) && !kernel)
		rc = err_set(EINVAL, "--initrd and --cmdline need --kernel");
	if (!rc && kernel && access(kernel, R_OK))
		rc = err_set(errno, "--kernel %s: %s", kernel, strerror(errno));
	if (!rc && initrd && access(initrd, R_OK))
		rc = err_set(errno, "--initrd %s: %s", initrd, strerror(errno));
	if (!rc && !dry)
		rc = host_check();
	if (!rc && !(md = malloc(sizeof(*md))))
		rc = err_set(ENOMEM, "out of memory");
	if (!rc && !(rc = fw_load(firmware, &fw)))
		fw_loaded = true;
	if (!rc)
		rc = fw_tdvf_parse(&fw, md);
	if (!rc)
		rc = tdx_plan_build(&fw, md, q.mem, &plan);
	if (!rc && dry)
		rc = cc_rec_create(dry, &rec);
	if (!rc) {
		q.plan = &plan;
		q.fw = &fw;
		rc = tdx_backend_launch(dry ? cc_rec_io(rec) : &cc_io_real, &q, &vm);
		if (!rc && !dry)
			status = run_td(vm, has_qgs ? &qgs : NULL, seccomp);
		tdx_backend_release(vm);
	}
	if (!rc && dry) {
		const uint8_t *mrtd = cc_rec_tdx_mrtd(rec);
		uint8_t want[TDX_MR_SIZE];
		char hex[2 * TDX_MR_SIZE + 1];

		if (!mrtd)
			rc = err_set(EIO, "dry run: the recorder has no MRTD");
		else if ((rc = tdx_mrtd(&plan, TDX_MRTD_SINGLE_PASS, NULL, want)))
			;
		else if (memcmp(mrtd, want, TDX_MR_SIZE))
			rc = err_set(EIO, "dry run: the MRTD differs from cvmm measure's (a backend bug)");
		else {
			hex_encode(mrtd, TDX_MR_SIZE, hex);
			printf("%s\n", hex);
		}
	}
	if (rec) {
		int crc = cc_rec_close(rec);

		if (!rc && crc)
			rc = err_set(EIO, "--dry-run %s: write failed", dry);
		if (rc && dry)
			unlink(dry); /* no half-written file */
	}
	plan_free(&plan);
	if (fw_loaded)
		fw_free(&fw);
	free(md);
	if (rc) {
		fprintf(stderr, "cvmm run: %s\n", err_msg());
		return 2;
	}
	return status;
}
