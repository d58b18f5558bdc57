/* Whole-file I/O. Output is written to a temporary file and renamed, so a
 * failure never leaves a half-written file behind (design.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int file_read(const char *path, size_t max, uint8_t **data, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(EINVAL, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return err_set(EFBIG, "%s: %lld bytes, larger than the limit of %zu", path, (long long)st.st_size, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return err_set(ENOMEM, "%s: out of memory", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			free(buf);
			close(fd);
			return err_set(e, "%s: read failed: %s", path, n < 0 ? strerror(e) : "file shrank");
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = 0;
	*data = buf;
	*len = got;
	return 0;
}

int file_write(const char *path, const void *data, size_t len)
{
	return file_write_mode(path, data, len, 0644);
}

/* The directory part of path, for the fsync that makes the rename durable. */
static void fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int file_write_mode(const char *path, const void *data, size_t len, unsigned int mode)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	const uint8_t *p = data;
	int fd, e = 0;

	if (!tmp)
		return err_set(ENOMEM, "%s: out of memory", path);
	/* mkstemp: O_EXCL, mode 0600 until the content is complete */
	snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		free(tmp);
		return err_set(e, "%s: cannot create: %s", path, strerror(e));
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!e && fchmod(fd, mode))
		e = errno;
	if (!e && fsync(fd))
		e = errno;
	if (close(fd) && !e)
		e = errno;
	/* rename replaces whatever path was (a symlink is replaced, not followed) */
	if (!e && rename(tmp, path))
		e = errno;
	if (e) {
		unlink(tmp);
		free(tmp);
		return err_set(e, "%s: write failed: %s", path, strerror(e));
	}
	free(tmp);
	fsync_parent(path);
	return 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* A large buffer about to be filled by read(): fault its pages in with one
 * call (MADV_POPULATE_WRITE) instead of one page fault per 4 KiB inside
 * read(), which was most of `cvmm measure`'s time on a 4 MiB firmware.
 * Best effort: an older kernel says EINVAL and the faults happen as before. */
static void prefault(uint8_t *buf, size_t len)
{
	uintptr_t a = ((uintptr_t)buf + 4095) & ~(uintptr_t)4095, e = ((uintptr_t)buf + len) & ~(uintptr_t)4095;

	if (len >= (1u << 20) && e > a)
		madvise((void *)a, e - a, MADV_POPULATE_WRITE);
}

int file_read_any(const char *path, size_t max, uint8_t **data, size_t *len)
{
	struct stat st;
	uint8_t *buf = NULL, *nb;
	size_t got = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return err_set(errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(EISDIR, "%s: is a directory, not a file", path);
	}
	for (;;) {
		ssize_t n;

		if (got == cap) {
			/* a regular file's size is a hint; streams grow geometrically */
			size_t want = cap ? cap * 2 : (S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536);

			if (cap > max) {
				free(buf);
				close(fd);
				return err_set(EFBIG, "%s: larger than the limit of %zu bytes", path, max);
			}
			if (want > max + 1)
				want = max + 1;
			nb = realloc(buf, want + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return err_set(ENOMEM, "%s: out of memory", path);
			}
			if (!cap && S_ISREG(st.st_mode))
				prefault(nb, want);
			buf = nb;
			cap = want;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			free(buf);
			close(fd);
			return err_set(e, "%s: read failed: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			free(buf);
			close(fd);
			return err_set(EFBIG, "%s: larger than the limit of %zu bytes", path, max);
		}
	}
	close(fd);
	if (!buf && !(buf = malloc(1)))
		return err_set(ENOMEM, "%s: out of memory", path);
	buf[got] = 0;
	*data = buf;
	*len = got;
	return 0;
}

int file_mkdir_p(const char *path, unsigned int mode)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return err_set(ENAMETOOLONG, "%s: path too long", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = 0;
			if (mkdir(buf, (mode_t)mode) && errno != EEXIST)
				return err_set(errno, "%s: cannot create directory: %s", buf, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}
