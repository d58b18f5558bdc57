/* cli_run.h - run the cvmm binary from a cmocka test and capture what it
 * prints. The binary is $CVMM (make unit-asan names the sanitizer build),
 * else the cvmm of the test's own build directory (build/tests/x ->
 * build/cvmm). Header-only: each test is one translation unit. */
#ifndef CVMM_TESTS_CLI_RUN_H
#define CVMM_TESTS_CLI_RUN_H

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"

struct cli_result {
	int code;              /* exit status */
	char *out, *err;       /* NUL-terminated */
	size_t out_len, err_len;
};

static char cli_path[4096];

/* Find the binary; returns 0, or -1 after printing why. */
static inline int cli_locate(const char *argv0)
{
	const char *env = getenv("CVMM");
	char self[4096];

	if (env && *env) {
		snprintf(cli_path, sizeof(cli_path), "%s", env);
	} else {
		snprintf(self, sizeof(self), "%s", argv0);
		snprintf(cli_path, sizeof(cli_path), "%s/../cvmm", dirname(self));
	}
	if (access(cli_path, X_OK)) {
		fprintf(stderr, "%s: %s is not executable (set CVMM)\n", argv0, cli_path);
		return -1;
	}
	return 0;
}

static inline char *cli_slurp_fd(int fd, size_t *len)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *p = malloc(n > 0 ? (size_t)n + 1 : 1);
	ssize_t got = n > 0 ? pread(fd, p, (size_t)n, 0) : 0;

	assert_non_null(p);
	assert_int_equal(got, n > 0 ? n : 0);
	p[got] = 0;
	*len = (size_t)got;
	close(fd);
	return p;
}

/* Run `cvmm args...` (args NULL-terminated, without the program name). */
static inline void cli_run(struct cli_result *r, const char *const *args)
{
	int out = memfd_create("stdout", 0), err = memfd_create("stderr", 0), st;
	pid_t pid;

	assert_true(out >= 0 && err >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[64];
		int n = 0;

		argv[n++] = cli_path;
		for (; *args && n < 63; args++)
			argv[n++] = *args;
		argv[n] = NULL;
		if (dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		execv(cli_path, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	r->code = WEXITSTATUS(st);
	r->out = cli_slurp_fd(out, &r->out_len);
	r->err = cli_slurp_fd(err, &r->err_len);
}

static inline void cli_free(struct cli_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

#endif
