/* configfs.c - evidence through the kernel's configfs-tsm report interface
 * (Documentation/ABI/testing/configfs-tsm-report, Linux >= 6.7):
 *
 *   mkdir  $root/report/NAME        a private request entry
 *   write  NAME/privlevel           optional (SNP VMPL, 0..3)
 *   write  NAME/inblob              64 bytes of report_data
 *   read   NAME/outblob             the report (SNP) or quote (TDX)
 *   read   NAME/auxblob             optional: SNP certificate table
 *   read   NAME/provider            "sev_guest", "tdx_guest", ...
 *   read   NAME/generation          counts every write to the entry
 *   rmdir  NAME
 *
 * The ABI text says a reader must check that `generation` moved only by its
 * own writes: another process writing the same entry in between would make
 * outblob answer someone else's inblob. We read it before the first write
 * and after outblob. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attestation/agent/agent.h"

/* Read an attribute to EOF (configfs attributes report no useful st_size,
 * so file_read's regular-file size check does not fit). */
static int attr_read(const char *dir, const char *name, size_t max, struct bytebuf *out)
{
	char path[4096];
	uint8_t buf[4096];
	int fd, e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(errno, "configfs-tsm: %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			close(fd);
			return err_set(e, "configfs-tsm: %s: read failed: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			close(fd);
			return err_set(EFBIG, "configfs-tsm: %s: more than %zu bytes", path, max);
		}
		if (bb_append(out, buf, (size_t)n)) {
			close(fd);
			return err_set(ENOMEM, "configfs-tsm: %s: out of memory", path);
		}
	}
	close(fd);
	return 0;
}

/* Write an attribute in one open/write/close: binary attributes (inblob)
 * are committed by the kernel when the file is released, so an error may
 * only show at close(). */
static int attr_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	const uint8_t *p = data;
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return err_set(errno, "configfs-tsm: %s: %s", path, strerror(errno));
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) && !e)
		e = errno;
	if (e)
		return err_set(e, "configfs-tsm: %s: write failed: %s", path, strerror(e));
	return 0;
}

/* One line of text: trailing newline removed, no NUL inside. */
static int attr_text(const char *dir, const char *name, char *out, size_t max)
{
	struct bytebuf b = { 0 };
	int ret = attr_read(dir, name, max, &b);

	if (ret) {
		bb_free(&b);
		return ret;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
		b.len--;
	if (!b.len || memchr(b.data, 0, b.len) || memchr(b.data, '\n', b.len)) {
		bb_free(&b);
		return err_set(EINVAL, "configfs-tsm: %s/%s: not one line of text", dir, name);
	}
	memcpy(out, b.data, b.len);
	out[b.len] = 0;
	bb_free(&b);
	return 0;
}

static int read_generation(const char *dir, uint64_t *gen)
{
	char text[32], path[4096];
	int ret = attr_text(dir, "generation", text, sizeof(text) - 1);

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "configfs-tsm: %s/generation", dir);
	return parse_u64(text, UINT64_MAX, gen, path);
}

int agent_configfs_present(const char *tsm_root)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/report", tsm_root);
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* The request itself, on an entry that exists. */
static int entry_report(const char *dir, const struct agent_req *req, struct agent_evidence *ev)
{
	uint64_t before, after, writes = 0;
	int ret;

	if ((ret = attr_text(dir, "provider", ev->provider, sizeof(ev->provider) - 1)))
		return ret;
	if ((ret = read_generation(dir, &before)))
		return ret;
	if (req->have_privlevel) {
		char text[16];
		int n = snprintf(text, sizeof(text), "%u\n", req->privlevel);

		if ((ret = attr_write(dir, "privlevel", text, (size_t)n)))
			return ret;
		writes++;
	}
	if ((ret = attr_write(dir, "inblob", req->report_data, sizeof(req->report_data))))
		return ret;
	writes++;
	if ((ret = attr_read(dir, "outblob", AGENT_BLOB_MAX, &ev->report)))
		return ret;
	if (!ev->report.len)
		return err_set(EIO, "configfs-tsm: %s/outblob: empty", dir);
	if (req->want_certs) {
		/* auxblob exists only where the provider has auxiliary data
		 * (sev_guest: the host's certificate table). */
		if ((ret = attr_read(dir, "auxblob", AGENT_BLOB_MAX, &ev->certs)))
			return ret;
		if (!ev->certs.len)
			return err_set(ENOENT, "configfs-tsm: %s/auxblob: empty (the host supplied no certificates)",
				       dir);
	}
	if ((ret = read_generation(dir, &after)))
		return ret;
	if (after < before || after - before > writes)
		return err_set(EAGAIN,
			       "configfs-tsm: %s/generation went from %" PRIu64 " to %" PRIu64
			       " across our %" PRIu64 " write(s): another writer raced this request, retry",
			       dir, before, after, writes);
	return 0;
}

int agent_configfs_report(const struct agent_req *req, struct agent_evidence *ev)
{
	char dir[4096];
	int ret;

	if (req->tsm_entry) {
		if (!*req->tsm_entry || strchr(req->tsm_entry, '/') || !strcmp(req->tsm_entry, ".") ||
		    !strcmp(req->tsm_entry, ".."))
			return err_set(EINVAL, "--tsm-entry: '%s' is not an entry name", req->tsm_entry);
		snprintf(dir, sizeof(dir), "%s/report/%s", req->tsm_root, req->tsm_entry);
		return entry_report(dir, req, ev);
	}
	/* A private entry per run: configfs-tsm entries are not shared state,
	 * and mkdir fails with EEXIST rather than reusing someone else's. */
	snprintf(dir, sizeof(dir), "%s/report/cvmm-agent-%ld", req->tsm_root, (long)getpid());
	if (mkdir(dir, 0700))
		return err_set(errno, "configfs-tsm: mkdir %s: %s", dir, strerror(errno));
	ret = entry_report(dir, req, ev);
	if (rmdir(dir) && !ret)
		ret = err_set(errno, "configfs-tsm: rmdir %s: %s", dir, strerror(errno));
	return ret;
}
