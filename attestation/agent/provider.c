/* provider.c - which evidence source cvmm-agent serve uses: configfs-tsm,
 * /dev/sev-guest, /dev/tdx_guest or the sim channel, the first that exists
 * for "auto"; and the platform ("snp"/"tdx") and wire provider name of the
 * answer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attestation/agent/serve.h"
#include "attestation/proto/proto.h"

static const char *const NAMES[] = { "auto", "configfs", "sev-guest", "tdx-guest", "sim" };

bool agent_provider_name_ok(const char *provider)
{
	for (size_t i = 0; i < ARRAY_SIZE(NAMES); i++)
		if (!strcmp(provider, NAMES[i]))
			return true;
	return false;
}

static const char *pick_auto(const char *tsm_root, const char *sim_channel)
{
	if (agent_configfs_present(tsm_root))
		return "configfs";
	if (!access(AGENT_SEV_GUEST, F_OK))
		return "sev-guest";
	if (!access(AGENT_TDX_GUEST, F_OK))
		return "tdx-guest";
	if (sim_channel) {
		int fd = att_sock_connect(sim_channel, 2000);

		if (fd >= 0) {
			close(fd);
			return "sim";
		}
	}
	return NULL;
}

int agent_provider_report(const char *provider, const char *sim_channel, const struct agent_req *req,
			  struct agent_evidence *ev, const char **platform, char label[80])
{
	const char *p = provider;

	if (!strcmp(p, "auto") && !(p = pick_auto(req->tsm_root, sim_channel)))
		return err_set(ENOENT, "no attestation provider: %s/report (configfs-tsm), %s and %s are missing and "
				       "the sim channel %s does not answer",
			       req->tsm_root, AGENT_SEV_GUEST, AGENT_TDX_GUEST, sim_channel ? sim_channel : "(unknown)");
	if (!strcmp(p, "configfs")) {
		int ret;

		if (!agent_configfs_present(req->tsm_root))
			return err_set(ENOENT, "configfs-tsm: %s/report is missing", req->tsm_root);
		if ((ret = agent_configfs_report(req, ev)))
			return ret;
		snprintf(label, 80, "configfs-tsm:%s", ev->provider);
		if (!strcmp(ev->provider, "sev_guest"))
			*platform = "snp";
		else if (!strcmp(ev->provider, "tdx_guest"))
			*platform = "tdx";
		else
			return err_set(ENOTSUP, "configfs-tsm: provider '%s' is neither sev_guest nor tdx_guest",
				       ev->provider);
		return 0;
	}
	if (!strcmp(p, "sev-guest")) {
		*platform = "snp";
		snprintf(label, 80, "sev-guest");
		return agent_sev_guest_report(AGENT_SEV_GUEST, req, ev);
	}
	if (!strcmp(p, "tdx-guest")) {
		*platform = "tdx";
		snprintf(label, 80, "tdx-guest");
		return agent_tdx_guest_report(AGENT_TDX_GUEST, req, ev);
	}
	if (!strcmp(p, "sim")) {
		if (!sim_channel)
			return err_set(ENOENT, "sim: no --sim-channel and no local vsock CID to derive it from");
		int ret = agent_sim_report(sim_channel, req, ev);

		/* the channel says which platform it simulates (sim.c) */
		*platform = !strcmp(ev->provider, "sim-tdx") ? "tdx" : "snp";
		snprintf(label, 80, "%s", !strcmp(ev->provider, "sim-tdx") ? "sim-tdx" : "sim");
		return ret;
	}
	return err_set(EINVAL, "--provider: '%s' is not auto, configfs, sev-guest, tdx-guest or sim", p);
}
