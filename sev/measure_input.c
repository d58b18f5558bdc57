/* Inputs of `cvmm measure` read from any readable file, once: regular files,
 * character devices (/dev/null), FIFOs and pipes (/dev/fd/N, `<(...)`).
 * Kernels and initrds only enter the digest through their SHA-256 (the SEV
 * hashes table), so they are hashed while they stream in and never held in
 * memory whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "sev_measure.h"

/* small enough to stay in the cache and to cost a handful of page faults
 * (a 1 MiB buffer cost 256 of them, a good part of the whole process) */
#define CHUNK (64u << 10)

int sev_file_sha256(const char *path, uint64_t max, uint8_t out[32], uint64_t *size)
{
	uint8_t *buf = NULL;
	EVP_MD_CTX *ctx = NULL;
	struct stat st;
	uint64_t got = 0;
	unsigned int n_out = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || S_ISDIR(st.st_mode)) {
		ret = err_set(EISDIR, "%s: is a directory, not a file", path);
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	buf = malloc(CHUNK);
	if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		ret = err_set(ENOMEM, "%s: SHA-256 initialisation failed", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			ret = err_set(e, "%s: read failed: %s", path, strerror(e));
			goto out;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
		if (got > max) {
			ret = err_set(EFBIG, "%s: larger than the limit of %llu bytes", path, (unsigned long long)max);
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			ret = err_set(EIO, "%s: SHA-256 failed", path);
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, out, &n_out) != 1 || n_out != 32) {
		ret = err_set(EIO, "%s: SHA-256 failed", path);
		goto out;
	}
	*size = got;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return ret;
}
