/* Benchmark: `cvmm measure --platform snp` as a whole process (exec, library
 * loading, reading the inputs, hashing, exit) on the 4 MiB AmdSev firmware
 * and the 14 MiB fixture kernel, against `openssl dgst -sha384` over the
 * same two files, both started here in the same run. Each side is timed
 * from fork to exit (wall clock: reading files and loading libraries is
 * part of what is measured), best of ROUNDS, rounds interleaved so that
 * load from other processes hits both alike; the page faults of the best
 * round are printed too (getrusage of the child).
 *
 * cvmm is the one next to this program's build directory ($(O)/cvmm);
 * run from the repository root (make bench does). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "bench/bench.h"

#define FIX "tests/fixtures/measure/"
#define FIRMWARE FIX "firmware/OVMF.amdsev-2026.08+ds-2.fd"
#define KERNEL FIX "boot/vmlinuz-6.1.0-56-cloud-amd64"
#define ROUNDS 15

/* Run argv with stdout to /dev/null; wall seconds, or < 0 when it failed. */
static double run(char *const argv[], long *faults)
{
	struct rusage ru;
	double t = bench_wall();
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	*faults = ru.ru_minflt + ru.ru_majflt;
	return bench_wall() - t;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], cvmm[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	double bm = 1e9, bo = 1e9;
	long fm = 0, fo = 0;

	(void)argc;
	if (n <= 0)
		return 1;
	self[n] = 0;
	/* $(O)/bench/bench_measure_process -> $(O)/cvmm */
	if ((slash = strrchr(self, '/')))
		*slash = 0;
	if ((slash = strrchr(self, '/')))
		*slash = 0;
	snprintf(cvmm, sizeof(cvmm), "%s/cvmm", self);
	if (access(cvmm, X_OK) || access(FIRMWARE, R_OK) || access(KERNEL, R_OK)) {
		fprintf(stderr, "%s: needs %s and the fixtures (run from the repository root)\n", argv[0], cvmm);
		return 1;
	}
	char *measure[] = { cvmm, "measure", "--platform", "snp", "--firmware", FIRMWARE, "--kernel", KERNEL,
			    "--append", "console=ttyS0", "--vcpus", "2", "--vcpu-type", "EPYC-v4", NULL };
	char *openssl[] = { "openssl", "dgst", "-sha384", FIRMWARE, KERNEL, NULL };

	for (int r = 0; r < ROUNDS; r++) {
		long f;
		double t = run(measure, &f);

		if (t < 0) {
			fprintf(stderr, "%s: %s measure failed\n", argv[0], cvmm);
			return 1;
		}
		if (t < bm) {
			bm = t;
			fm = f;
		}
		t = run(openssl, &f);
		if (t < 0) {
			fprintf(stderr, "%s: openssl dgst -sha384 failed (is openssl installed?)\n", argv[0]);
			return 1;
		}
		if (t < bo) {
			bo = t;
			fo = f;
		}
	}
	printf("measure-process: cvmm measure --platform snp (4 MiB firmware + 14 MiB kernel) %.1f ms, %ld page faults; "
	       "openssl dgst -sha384 (same files) %.1f ms, %ld page faults\n", bm * 1e3, fm, bo * 1e3, fo);
	printf("measure-process/openssl = %.2f (goal <= 1.2)\n", bm / bo);
	return 0;
}
