/* cvmm - confidential-computing VMM: one binary, one subcommand per job.
 * Each subcommand lives in the module that owns it; this file only
 * dispatches and prints the error recorded by err_set() once. */
#include <stdio.h>
#include <string.h>

#include "attestation/attestation.h"
#include "measured-boot/measured_boot.h"
#include "sev/sev.h"
#include "tdx/tdx.h"
#include "vmm/confine/confine.h"
#include "vmm/host_info.h"
#include "vmm/vmm.h"

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "measure", vmm_cli_measure, "predict the launch digest (SNP, SEV-ES, SEV, TDX MRTD, sim-snp, sim-tdx MRTD)" },
	{ "id-block", sev_cli_id_block, "build the SNP ID block and ID auth for a launch digest (snp-create-id-block)" },
	{ "run", vmm_cli_run, "launch a guest" },
	{ "serve", vmm_cli_serve, "serve the VM lifecycle API (Cloud Hypervisor's) on a Unix socket, no VM yet" },
	{ "ctl", vmm_cli_ctl, "a client of the API socket: ping, info, pause, resume, shutdown, ..." },
	{ "config", vmm_cli_config, "check a guest configuration file (VmConfig JSON)" },
	{ "host-info", vmm_cli_host_info, "what this host offers for confidential guests (KVM VM types, /dev/sev, parameters)" },
	{ "seccomp", confine_cli_seccomp, "print the seccomp allow-list of each thread role of cvmm run" },
	{ "sim-root", vmm_cli_sim_root, "print a sim platform's root certificate (sim-snp ARK, sim-tdx root CA) to pin" },
	{ "verify", att_cli_verify, "verify an SNP report or TDX quote like a relying party" },
	{ "verify-ear", att_cli_verify_ear, "check a signed EAR attestation result (cvmm verify --output ear)" },
	{ "show", att_cli_show, "print an SNP report or TDX quote field by field" },
	{ "attest", att_cli_attest, "attest a guest through its endpoint and release a secret" },
	{ "endpoint", att_cli_endpoint, "serve the attestation endpoint alone (tests, benchmarks)" },
	{ "fetch-certs", att_cli_fetch_certs, "fetch VCEK/ASK/ARK or PCK collateral over HTTPS" },
	{ "eventlog", mb_cli_eventlog, "show or replay a TCG event log (TPM or CCEL)" },
	{ "tpm", mb_cli_tpm, "host TPM 2.0: quote the launch PCR" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'cvmm COMMAND --help' lists the options of a command.\n"
		   "Exit status: 0 success, 1 evidence invalid or policy failed, 2 usage or input error.\n");
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
	if (!strcmp(argv[1], "--version")) {
		printf("cvmm " CVMM_VERSION "\n");
		return 0;
	}
	vmm_version = CVMM_VERSION;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "cvmm: unknown command '%s' (try cvmm --help)\n", argv[1]);
	return 2;
}
