/* bench_endpoint: attestation evidence served end to end over HTTPS, against
 * the rate at which the sim secure processor signs reports in-process (the
 * work no relay can avoid), measured in the same run.
 *   (a) snp_sim_report calls per second for ~2 s;
 *   (b) the sim channel on a Unix socket, `cvmm-agent serve --provider sim`
 *       on another, and the endpoint in-process (att_endpoint_start); wrk
 *       (-t1 -c4 -d5s --latency) POSTs {"nonce"} to /v1/evidence over TLS 1.3
 *       on loopback; its requests/s and p99 latency.
 * Prints "endpoint evidence req/s / sim signatures/s = R (goal >= 0.7)" and
 * "p99 latency = X ms". Needs wrk (scripts/deps) and build/cvmm-agent (or
 * $CVMM_AGENT); run from the repository root. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attestation/attestation.h"
#include "attestation/endpoint.h" /* att_endpoint_port */
#include "bench/bench.h"
#include "common/common.h"
#include "sev/sev.h"

#define NAME "bench_endpoint"

static void die(const char *what)
{
	fprintf(stderr, NAME ": %s\n", what);
	exit(1);
}

static double sim_rate(struct snp_sim *sp, double secs)
{
	uint8_t rd[64] = { 1 }, report[0x4A0];
	double t0 = bench_wall(), t;
	long n = 0;

	do {
		rd[1] = (uint8_t)n;
		if (snp_sim_report(sp, rd, 0, report))
			bench_die(NAME, "snp_sim_report");
		n++;
		t = bench_wall() - t0;
	} while (t < secs);
	return (double)n / t;
}

static pid_t start_agent(const char *dir)
{
	const char *agent = getenv("CVMM_AGENT") ? getenv("CVMM_AGENT") : "build/cvmm-agent";
	char listen[300], sim[300], secrets[300], sock[300];
	struct stat st;
	pid_t pid;

	if (access(agent, X_OK))
		die("build/cvmm-agent is not there: run `make` first (or set CVMM_AGENT)");
	snprintf(listen, sizeof(listen), "unix:%s/agent.sock", dir);
	snprintf(sim, sizeof(sim), "unix:%s/sim.sock", dir);
	snprintf(secrets, sizeof(secrets), "%s/secrets", dir);
	snprintf(sock, sizeof(sock), "%s/agent.sock", dir);
	if ((pid = fork()) < 0)
		die("fork failed");
	if (!pid) {
		execl(agent, agent, "serve", "--listen", listen, "--provider", "sim", "--sim-channel", sim,
		      "--secret-dir", secrets, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && stat(sock, &st); i++)
		usleep(10000);
	if (stat(sock, &st))
		die("cvmm-agent serve did not start listening");
	return pid;
}

/* A wrk latency figure ("12.34ms", "850.00us", "1.02s") in milliseconds. */
static double wrk_ms(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (!strncmp(end, "us", 2))
		return v / 1000;
	if (!strncmp(end, "ms", 2))
		return v;
	if (*end == 's')
		return v * 1000;
	return -1;
}

static void run_wrk(const char *dir, unsigned port, double *rps, double *p99)
{
	char lua[300], cmd[800], line[512];
	FILE *f, *p;
	bool non2xx = false;

	snprintf(lua, sizeof(lua), "%s/evidence.lua", dir);
	if (!(f = fopen(lua, "w")))
		die("cannot write the wrk script");
	fprintf(f, "wrk.method = \"POST\"\n"
		   "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
		   "wrk.body = '{\"nonce\": \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}'\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "wrk -t1 -c4 -d5s --latency -s %s https://127.0.0.1:%u/v1/evidence 2>&1", lua, port);
	if (!(p = popen(cmd, "r")))
		die("cannot run wrk (scripts/deps installs it)");
	*rps = *p99 = -1;
	while (fgets(line, sizeof(line), p)) {
		char *s = line + strspn(line, " \t");

		if (!strncmp(s, "Requests/sec:", 13))
			*rps = strtod(s + 13, NULL);
		else if (!strncmp(s, "99%", 3))
			*p99 = wrk_ms(s + 3 + strspn(s + 3, " \t"));
		else if (strstr(s, "Non-2xx") || strstr(s, "Socket errors"))
			non2xx = true, fprintf(stderr, NAME ": wrk: %s", s);
	}
	if (pclose(p) || *rps < 0 || *p99 < 0)
		die("wrk failed or printed no Requests/sec and 99% latency (is wrk installed? scripts/deps)");
	if (non2xx)
		die("the endpoint answered errors under load");
}

int main(void)
{
	char dir[] = "/tmp/cvmm-bench-endpoint.XXXXXX", path[300], cmd[340];
	struct snp_sim_launch l = { .policy = 0x30000 };
	struct snp_sim *sp;
	struct snp_sim_channel *ch;
	struct att_endpoint *ep;
	struct att_endpoint_cfg cfg = { .listen = "127.0.0.1:0", .max_concurrent = 16 };
	double sims, rps, p99;
	pid_t agent;
	int st;

	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(path, sizeof(path), "%s/sim", dir);
	if (snp_sim_open(path, &sp) || snp_sim_launch(sp, &l))
		bench_die(NAME, "sim secure processor");
	sims = sim_rate(sp, 2.0);

	snprintf(path, sizeof(path), "unix:%s/sim.sock", dir);
	if (snp_sim_channel_start(sp, path, 0, &ch))
		bench_die(NAME, "sim channel");
	agent = start_agent(dir);
	snprintf(path, sizeof(path), "unix:%s/agent.sock", dir);
	cfg.agent_addr = path;
	if (att_endpoint_start(&cfg, &ep))
		bench_die(NAME, "endpoint");
	run_wrk(dir, att_endpoint_port(ep), &rps, &p99);

	att_endpoint_stop(ep);
	kill(agent, SIGTERM);
	waitpid(agent, &st, 0);
	snp_sim_channel_stop(ch);
	snp_sim_close(sp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, NAME ": could not remove %s\n", dir);

	printf("endpoint: %.0f evidence req/s over HTTPS (wrk -t1 -c4), sim signer: %.0f reports/s in-process\n", rps,
	       sims);
	printf("endpoint evidence req/s / sim signatures/s = %.2f (goal >= 0.7)\n", rps / sims);
	printf("p99 latency = %.2f ms\n", p99);
	return 0;
}
