/* snp_run_cli.c - `cvmm run --platform snp|sev-es|sev`: build the launch
 * plan exactly as `cvmm measure` does (sev_measure_load + sev_plan_build)
 * and hand it to the SNP backend (backend_snp.c) or the SEV/SEV-ES one
 * (backend_sev.c). With --dry-run FILE the
 * launch runs against the recording ioctl stand-in (vmm/ioctl_rec.h),
 * writes one JSON line per ioctl to FILE and prints the launch digest the
 * PSP would report (hex, one line), stopping before the first KVM_RUN. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "attestation/base64.h"
#include "common/common.h"
#include "backend_snp.h"
#include "sev_measure.h"
#include "sev_uapi.h"
#include "vmm/confine/confine.h"
#include "vmm/kvm_uapi.h"
#include "vmm/vmm_core.h"

#define SNP_DEFAULT_POLICY 0x30000ull /* SMT allowed, reserved bit 17 (SNP ABI, guest policy) */

static const char usage_text[] =
	"usage: cvmm run --platform snp|sev-es|sev --firmware OVMF.fd [--kernel K [--initrd I] [--cmdline C]]\n"
	"                --vcpus N (--vcpu-type T | --vcpu-sig S) [--mem SIZE] [--dry-run FILE]\n"
	"  --guest-features V   SEV_FEATURES of the VMSAs (default 0x1)\n"
	"  --policy P           guest policy (default snp 0x30000, sev-es 0x5, sev 0x1)\n"
	"  --id-block F --id-auth F   ID block (96 bytes) and ID auth (4096 bytes) for SNP_LAUNCH_FINISH\n"
	"  --author-key-en      the ID auth carries an author key\n"
	"  --launch-secret F    sev, sev-es: inject the guest owner's secret (LAUNCH_SECRET) after\n"
	"                       LAUNCH_MEASURE; F is JSON {\"packet-header\": base64, \"secret\": base64,\n"
	"                       \"gpa\": N (optional; default OVMF's SEV secret area)}\n"
	"  --sev-dh-cert F --sev-session F   sev, sev-es: the guest owner's PDH certificate and\n"
	"                       launch session blob for LAUNCH_START\n"
	"  --print-seccomp      print the allow-lists as JSON and exit\n"
	"  --seccomp=kill|log|off   per-thread seccomp allow-lists once the launch is finished\n"
	"                       (vcpu, vmm; docs/security.md); kill (default) ends cvmm on a call\n"
	"                       off its list, log only logs it, off installs none\n"
	"  --dry-run FILE       launch against the ioctl recorder: FILE gets one JSON line per ioctl,\n"
	"                       stdout the launch digest; nothing runs\n";

static int num(const char *flag, const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return err_set(EINVAL, "%s: '%s' is not a number", flag, s);
	return 0;
}

static int read_exact(const char *flag, const char *path, size_t len, uint8_t **out)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int ret = file_read(path, len + 1, &b, &n);

	if (ret)
		return err_wrap(-ret, "%s", flag);
	if (n != len) {
		free(b);
		return err_set(EINVAL, "%s %s: %zu bytes, need %zu", flag, path, n, len);
	}
	*out = b;
	return 0;
}

/* Without the recorder: say what the host lacks, in one line. */
static int host_check(const char *platform, unsigned long type)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int types;

	if (fd < 0)
		return err_set(ENODEV, "--platform %s: /dev/kvm is missing (%s): no KVM on this host", platform,
			       strerror(errno));
	types = cc_io_real.ioctl(&cc_io_real, fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_VM_TYPES);
	close(fd);
	if (types < 0 || !(types & (1 << type)))
		return err_set(ENODEV, "--platform %s: KVM does not offer VM type %lu (KVM_CAP_VM_TYPES %#x): needs an "
				       "AMD EPYC host with it enabled and kvm_amd.%s=1", platform, type, types < 0 ? 0 : types,
			       type == KVM_X86_SNP_VM ? "sev_snp" : type == KVM_X86_SEV_ES_VM ? "sev_es" : "sev");
	if (access("/dev/sev", R_OK | W_OK))
		return err_set(ENODEV, "--platform %s: /dev/sev is missing (%s): the ccp driver with SEV firmware",
			       platform, strerror(errno));
	return 0;
}

/* --launch-secret FILE: {"packet-header": base64 (52 bytes), "secret":
 * base64, "gpa": N}, the arguments of QEMU's sev-inject-launch-secret.
 * Without "gpa" the secret goes to OVMF's SEV secret area and must fit it. */
static int read_secret(const char *path, const struct fw_image *fw, struct sev_launch_req *q, uint8_t **hdr,
		       uint8_t **sec)
{
	json_error_t je;
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *g;
	const char *h, *d;
	size_t hl, dl;
	int rc;

	if (!o)
		return err_set(EINVAL, "--launch-secret %s: %s (line %d)", path, je.text, je.line);
	if (json_unpack_ex(o, &je, JSON_STRICT, "{s:s,s:s,s?o}", "packet-header", &h, "secret", &d, "gpa", &g)) {
		json_decref(o);
		return err_set(EINVAL, "--launch-secret %s: %s (want {\"packet-header\", \"secret\", \"gpa\"})", path,
			       je.text);
	}
	g = json_object_get(o, "gpa");
	if ((rc = att_b64_decode(h, strlen(h), SEV_LAUNCH_SECRET_HDR_LEN, "--launch-secret packet-header", hdr, &hl)) ||
	    (rc = att_b64_decode(d, strlen(d), 1u << 20, "--launch-secret secret", sec, &dl)))
		goto out;
	if (hl != SEV_LAUNCH_SECRET_HDR_LEN || !dl) {
		rc = err_set(EINVAL, "--launch-secret %s: a packet header of %zu bytes (need %u) and a secret of %zu",
			     path, hl, SEV_LAUNCH_SECRET_HDR_LEN, dl);
		goto out;
	}
	if (g && (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) % 16)) {
		rc = err_set(EINVAL, "--launch-secret %s: \"gpa\" must be a 16-byte aligned address", path);
		goto out;
	}
	if (g) {
		q->secret_gpa = (uint64_t)json_integer_value(g);
	} else {
		const uint8_t *e;
		size_t el;

		if ((rc = fw_table_find(fw, FW_GUID_SEV_SECRET, &e, &el)) || el < 8) {
			rc = err_set(ENOENT, "--launch-secret %s: no \"gpa\" and the firmware has no SEV secret area", path);
			goto out;
		}
		q->secret_gpa = le32(e);
		if (dl > le32(e + 4)) {
			rc = err_set(EINVAL, "--launch-secret %s: a secret of %zu bytes does not fit the firmware's secret "
					     "area (%u bytes at %#x)", path, dl, le32(e + 4), le32(e));
			goto out;
		}
	}
	q->secret_hdr = *hdr;
	q->secret = *sec;
	q->secret_len = dl;
out:
	json_decref(o);
	return rc;
}

/* After the launch on a real host: the vCPUs until the guest stops; a
 * bare debug console (COM1 / the firmware debug port) on stderr. Each
 * thread confines itself (cc_run_vcpus) with the --seccomp mode. */
static int run_guest(struct cc_vm_view *view, const char *platform, enum confine_seccomp_mode seccomp)
{
	struct cc_mem mem;
	struct cc_runner r;
	int console = STDERR_FILENO, st;

	confine_seccomp_set_mode(seccomp);
	if (seccomp == CONFINE_SECCOMP_OFF)
		fprintf(stderr, "cvmm run: warning: --seccomp=off: the VMM runs with every system call; a device "
				"model bug is the host's problem\n");

	cc_mem_init(&mem, view->io, view->vm_fd, view->slot, view->nslot, view->private_mem);
	cc_runner_init(&r, &mem);
	r.io = cc_console_io;
	r.io_ctx = &console;
	st = cc_run_vm(view, &r);
	cc_mem_destroy(&mem);
	if (st < 0) {
		fprintf(stderr, "cvmm run: --platform %s: %s\n", platform, err_msg());
		return VMM_EXIT_ERROR;
	}
	fprintf(stderr, "cvmm run: %s\n", r.why);
	return st;
}

int sev_cli_run(int argc, char **argv)
{
	enum { O_PLATFORM = 256, O_FW, O_KERNEL, O_INITRD, O_CMDLINE, O_VCPUS, O_VTYPE, O_VSIG, O_FEAT, O_POLICY,
	       O_MEM, O_DRY, O_IDB, O_IDA, O_AUTHOR, O_SECRET, O_DH, O_SESSION, O_SECCOMP, O_PRINT_SECCOMP };
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, O_PLATFORM }, { "firmware", required_argument, NULL, O_FW },
		{ "ovmf", required_argument, NULL, O_FW }, { "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD }, { "cmdline", required_argument, NULL, O_CMDLINE },
		{ "append", required_argument, NULL, O_CMDLINE }, { "vcpus", required_argument, NULL, O_VCPUS },
		{ "vcpu-type", required_argument, NULL, O_VTYPE }, { "vcpu-sig", required_argument, NULL, O_VSIG },
		{ "guest-features", required_argument, NULL, O_FEAT }, { "policy", required_argument, NULL, O_POLICY },
		{ "mem", required_argument, NULL, O_MEM }, { "dry-run", required_argument, NULL, O_DRY },
		{ "id-block", required_argument, NULL, O_IDB }, { "id-auth", required_argument, NULL, O_IDA },
		{ "author-key-en", no_argument, NULL, O_AUTHOR }, { "help", no_argument, NULL, 'h' },
		{ "launch-secret", required_argument, NULL, O_SECRET }, { "sev-dh-cert", required_argument, NULL, O_DH },
		{ "sev-session", required_argument, NULL, O_SESSION },
		{ "seccomp", required_argument, NULL, O_SECCOMP },
		{ "print-seccomp", no_argument, NULL, O_PRINT_SECCOMP },
		{ NULL, 0, NULL, 0 },
	};
	struct measure_req m = { .mode = SEV_MODE_SNP, .guest_features = 0x1, .vmm = SEV_VMM_QEMU };
	struct snp_launch_req q = { .mem = 512ull << 20, .policy = SNP_DEFAULT_POLICY };
	bool policy_set = false, features_set = false;
	uint8_t sev_measurement[48];
	const char *dry = NULL, *idb = NULL, *ida = NULL, *platform = NULL, *secret = NULL, *dh = NULL, *session = NULL;
	uint8_t *id_block = NULL, *id_auth = NULL, *sec_hdr = NULL, *sec = NULL, *dh_cert = NULL, *sess = NULL;
	size_t dh_len = 0, sess_len = 0;
	struct cc_vm_view view;
	enum confine_seccomp_mode seccomp = CONFINE_SECCOMP_KILL;
	bool print_seccomp = false;
	int status = 0;
	struct cc_rec *rec = NULL;
	struct snp_vm *vm = NULL;
	uint64_t v;
	int o, rc = 0;

	err_clear();
	opterr = 0;
	optind = 0;
	while (!rc && (o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case O_PLATFORM: platform = optarg; break;
		case O_FW: m.firmware = optarg; break;
		case O_KERNEL: m.kernel = optarg; break;
		case O_INITRD: m.initrd = optarg; break;
		case O_CMDLINE: m.append = optarg; break;
		case O_VCPUS:
			if (!(rc = num("--vcpus", optarg, &v)) && (!v || v > SEV_MAX_VCPUS))
				rc = err_set(ERANGE, "--vcpus: %s is out of range (1..%u)", optarg, SEV_MAX_VCPUS);
			m.vcpus = (unsigned)v;
			break;
		case O_VTYPE: m.vcpu_type = optarg; rc = sev_vcpu_type_sig(optarg, &m.vcpu_sig); m.has_vcpu_sig = true; break;
		case O_VSIG:
			if (!(rc = num("--vcpu-sig", optarg, &v)) && v > UINT32_MAX)
				rc = err_set(ERANGE, "--vcpu-sig: %s is out of range", optarg);
			m.vcpu_sig = (uint32_t)v;
			m.has_vcpu_sig = true;
			break;
		case O_FEAT: rc = num("--guest-features", optarg, &m.guest_features); features_set = true; break;
		case O_POLICY: rc = num("--policy", optarg, &q.policy); policy_set = true; break;
		case O_MEM: rc = parse_size(optarg, &q.mem, "--mem"); break;
		case O_DRY: dry = optarg; break;
		case O_IDB: idb = optarg; break;
		case O_IDA: ida = optarg; break;
		case O_AUTHOR: q.author_key_en = true; break;
		case O_SECRET: secret = optarg; break;
		case O_DH: dh = optarg; break;
		case O_SESSION: session = optarg; break;
		case O_SECCOMP: rc = confine_seccomp_parse(optarg, &seccomp); break;
		case O_PRINT_SECCOMP: print_seccomp = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default:
			rc = err_set(EINVAL, "unknown option or missing value '%s' (try cvmm run --platform snp --help)",
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
	if (!rc && platform && !strcmp(platform, "sev-es"))
		m.mode = SEV_MODE_SEV_ES;
	else if (!rc && platform && !strcmp(platform, "sev"))
		m.mode = SEV_MODE_SEV;
	else if (!rc && (!platform || strcmp(platform, "snp")))
		rc = err_set(EINVAL, "--platform %s: this path launches snp, sev-es and sev", platform ? platform : "(none)");
	if (!rc && m.mode != SEV_MODE_SNP) {
		if (!policy_set)
			q.policy = m.mode == SEV_MODE_SEV_ES ? 0x5 : 0x1; /* NODBG, ES (SEV API, guest policy) */
		if (q.policy > UINT32_MAX)
			rc = err_set(ERANGE, "--policy: an SEV guest policy is 32 bits");
		if (!rc && (features_set || idb))
			rc = err_set(EINVAL, "%s is for --platform snp", features_set ? "--guest-features" : "--id-block");
		if (!rc && m.mode == SEV_MODE_SEV && !m.vcpus)
			m.vcpus = 1;
		m.guest_features = 0;
	}
	if (!rc && m.mode == SEV_MODE_SNP && (secret || dh || session))
		rc = err_set(EINVAL, "%s is for --platform sev and sev-es (SNP guests get secrets through the secrets "
				     "page and attestation)", secret ? "--launch-secret" : dh ? "--sev-dh-cert" : "--sev-session");
	if (!rc && !dh != !session)
		rc = err_set(EINVAL, "--sev-dh-cert and --sev-session go together");
	if (!rc && !m.firmware)
		rc = err_set(EINVAL, "--platform %s needs --firmware OVMF.fd (an SEV capable OVMF)", platform);
	if (!rc && !m.vcpus)
		rc = err_set(EINVAL, "--platform %s needs --vcpus N", platform);
	if (!rc && !m.has_vcpu_sig && m.mode != SEV_MODE_SEV)
		rc = err_set(EINVAL, "--platform %s needs --vcpu-type or --vcpu-sig (it goes into the measured VMSA)",
			     platform);
	if (!rc && (m.initrd || m.append) && !m.kernel)
		rc = err_set(EINVAL, "--initrd and --cmdline need --kernel (measured direct boot)");
	if (!rc && !idb != !ida)
		rc = err_set(EINVAL, "--id-block and --id-auth go together");
	if (!rc && q.mem < (16ull << 20))
		rc = err_set(EINVAL, "--mem: an SNP guest needs at least 16M");
	if (!rc && !dry)
		rc = host_check(platform, m.mode == SEV_MODE_SNP ? KVM_X86_SNP_VM
					  : m.mode == SEV_MODE_SEV_ES ? KVM_X86_SEV_ES_VM : KVM_X86_SEV_VM);
	if (!rc && idb && !(rc = read_exact("--id-block", idb, KVM_SEV_SNP_ID_BLOCK_SIZE, &id_block)))
		rc = read_exact("--id-auth", ida, KVM_SEV_SNP_ID_AUTH_SIZE, &id_auth);
	if (!rc)
		rc = sev_measure_load(&m);
	if (!rc)
		rc = sev_measure_compute(&m); /* the plan, and measure's digest of it */
	/* the firmware refuses an ID block for another launch at
	 * SNP_LAUNCH_FINISH (SNP ABI, ID_BLOCK: LD at 0, POLICY at 88); say so first */
	if (!rc && id_block && memcmp(id_block, m.digest, SNP_DIGEST_LEN)) {
		char want[2 * SNP_DIGEST_LEN + 1], got[2 * SNP_DIGEST_LEN + 1];

		hex_encode(m.digest, SNP_DIGEST_LEN, want);
		hex_encode(id_block, SNP_DIGEST_LEN, got);
		rc = err_set(EINVAL, "--id-block %s: its launch digest %s is not this launch's %s", idb, got, want);
	}
	if (!rc && id_block && le64(id_block + 88) != q.policy)
		rc = err_set(EINVAL, "--id-block %s: its policy %#llx is not the launch's --policy %#llx", idb,
			     (unsigned long long)le64(id_block + 88), (unsigned long long)q.policy);
	if (!rc && dry)
		rc = cc_rec_create(dry, &rec);
	if (!rc && m.mode != SEV_MODE_SNP) {
		struct sev_launch_req sq = { .plan = &m.plan, .mode = m.mode, .mem = q.mem, .vcpus = m.vcpus,
					     .policy = (uint32_t)q.policy };
		struct sev_vm *svm = NULL;
		const uint8_t *d;
		char hex[2 * SEV_DIGEST_LEN + 1];

		if (dh && !(rc = file_read(dh, 1u << 16, &dh_cert, &dh_len)) &&
		    !(rc = file_read(session, 1u << 16, &sess, &sess_len))) {
			sq.dh_cert = dh_cert;
			sq.dh_cert_len = dh_len;
			sq.session = sess;
			sq.session_len = sess_len;
		} else if (rc) {
			rc = err_wrap(-rc, "%s", dh_cert ? "--sev-session" : "--sev-dh-cert");
		}
		if (!rc && secret)
			rc = read_secret(secret, &m.fw, &sq, &sec_hdr, &sec);
		if (!rc)
			rc = sev_backend_launch(dry ? cc_rec_io(rec) : &cc_io_real, &sq, sev_measurement, &svm);
		if (!rc && !dry) {
			/* the launch measurement for the guest owner: HMAC-SHA-256 (TIK) and mnonce */
			char mhex[2 * 48 + 1];

			hex_encode(sev_measurement, 48, mhex);
			printf("%s\n", mhex);
			fflush(stdout);
			sev_backend_view(svm, &view);
			status = run_guest(&view, platform, seccomp);
		}
		sev_backend_release(svm);
		if (!rc && dry) {
			if (!(d = cc_rec_sev_digest(rec)))
				rc = err_set(EIO, "dry run: the recorder has no launch digest");
			else if (memcmp(d, m.digest, SEV_DIGEST_LEN))
				rc = err_set(EIO, "dry run: the launch digest differs from cvmm measure's (a backend bug)");
			else {
				hex_encode(d, SEV_DIGEST_LEN, hex);
				printf("%s\n", hex);
			}
		}
	} else if (!rc) {
		q.plan = &m.plan;
		q.vcpus = m.vcpus;
		q.guest_features = m.guest_features;
		q.id_block = id_block;
		q.id_auth = id_auth;
		rc = snp_backend_launch(dry ? cc_rec_io(rec) : &cc_io_real, &q, &vm);
		if (!rc && !dry) {
			snp_backend_view(vm, &view);
			status = run_guest(&view, platform, seccomp);
		}
		snp_backend_release(vm);
	}
	if (!rc && dry && m.mode == SEV_MODE_SNP) {
		const uint8_t *d = cc_rec_snp_measurement(rec);
		char hex[2 * SNP_DIGEST_LEN + 1];

		if (!d)
			rc = err_set(EIO, "dry run: the recorder has no launch digest");
		else if (memcmp(d, m.digest, SNP_DIGEST_LEN))
			rc = err_set(EIO, "dry run: the launch digest differs from cvmm measure's (a backend bug)");
		else {
			hex_encode(d, SNP_DIGEST_LEN, hex);
			printf("%s\n", hex);
		}
	}
	if (rec) {
		int crc = cc_rec_close(rec);

		if (!rc && crc)
			rc = err_set(EIO, "--dry-run %s: write failed", dry);
	}
	if (rc && dry && rec)
		unlink(dry); /* no half-written file */
	sev_measure_release(&m);
	free(id_block);
	free(id_auth);
	free(sec_hdr);
	free(sec);
	free(dh_cert);
	free(sess);
	if (rc) {
		fprintf(stderr, "cvmm run: %s\n", err_msg());
		return 2;
	}
	return status;
}
