/* keystore.c - the on-disk key stores of cvmm's simulated platforms (sim-snp
 * in sev/, sim-tdx in tdx/): a directory of PEM certificates and keys, made
 * once and reused. Creation is atomic: the files are written (0600) into a
 * temporary sibling directory (0700) that is renamed onto the store, so a
 * crash never leaves half a store, and when two processes race the loser
 * uses the winner's keys. A damaged file is an error naming it; a store is
 * never silently regenerated. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/common.h"

#define STORE_FILE_MAX (1 << 20)
#define PATH_MAX_LEN 4400

/* dir/name into out; -ENAMETOOLONG when it does not fit. */
static int join(char out[PATH_MAX_LEN], const char *dir, const char *name)
{
	if ((size_t)snprintf(out, PATH_MAX_LEN, "%s/%s", dir, name) >= PATH_MAX_LEN)
		return err_set(ENAMETOOLONG, "%s: path too long", dir);
	return 0;
}

char *keystore_default_dir(const char *name)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *s = NULL;

	if (xdg && xdg[0] == '/')
		return asprintf(&s, "%s/cvmm/%s", xdg, name) < 0 ? NULL : s;
	if (!home || !home[0]) {
		err_set(ENOENT, "%s: neither XDG_STATE_HOME nor HOME is set: give a key store directory", name);
		return NULL;
	}
	return asprintf(&s, "%s/.local/state/cvmm/%s", home, name) < 0 ? NULL : s;
}

bool keystore_absent(const char *dir, const char *const *names, size_t n)
{
	char path[PATH_MAX_LEN];

	for (size_t i = 0; i < n; i++)
		if (join(path, dir, names[i]) || !access(path, F_OK))
			return false;
	return true;
}

static int write_pem(const char *dir, const struct keystore_entry *e)
{
	char path[PATH_MAX_LEN];
	BIO *b;
	char *p;
	long n;
	int ret;

	if ((ret = join(path, dir, e->name)))
		return ret;
	b = BIO_new(BIO_s_mem());
	if (!b || !(e->cert ? PEM_write_bio_X509(b, e->cert)
			    : PEM_write_bio_PrivateKey(b, e->key, NULL, NULL, 0, NULL, NULL))) {
		BIO_free(b);
		return err_set(EIO, "%s: cannot encode", path);
	}
	n = BIO_get_mem_data(b, &p);
	ret = file_write_mode(path, p, (size_t)n, 0600);
	BIO_free(b);
	return ret;
}

static void remove_tree(const char *dir, const struct keystore_entry *e, size_t n)
{
	char path[PATH_MAX_LEN];

	for (size_t i = 0; i < n; i++)
		if (!join(path, dir, e[i].name))
			unlink(path);
	rmdir(dir);
}

int keystore_create(const char *dir, const struct keystore_entry *e, size_t n)
{
	char tmp[4096], parent[4096], *slash;
	int ret = 0, fd;

	if (strlen(dir) + 16 > sizeof(tmp))
		return err_set(ENAMETOOLONG, "%s: path too long", dir);
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		if ((ret = file_mkdir_p(parent, 0700)))
			return ret;
	} else {
		snprintf(parent, sizeof(parent), "%s", slash ? "/" : ".");
	}
	snprintf(tmp, sizeof(tmp), "%s.new-XXXXXX", dir);
	if (!mkdtemp(tmp))
		return err_set(errno, "%s: cannot create a temporary directory: %s", tmp, strerror(errno));
	for (size_t i = 0; i < n && !ret; i++)
		ret = write_pem(tmp, &e[i]);
	if (!ret && rename(tmp, dir)) {
		/* ENOTEMPTY/EEXIST: another process made it first: use theirs */
		if (errno != ENOTEMPTY && errno != EEXIST)
			ret = err_set(errno, "%s: cannot move the new key store into place: %s", dir, strerror(errno));
	} else if (!ret) {
		tmp[0] = 0;
		if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	if (tmp[0])
		remove_tree(tmp, e, n);
	return ret;
}

int keystore_read(const char *dir, const char *name, const char *what, X509 **cert, EVP_PKEY **key)
{
	char path[PATH_MAX_LEN];
	uint8_t *data = NULL;
	size_t len;
	BIO *b;
	int ret;

	if ((ret = join(path, dir, name)))
		return ret;
	if ((ret = file_read(path, STORE_FILE_MAX, &data, &len)))
		return err_set(-ret, "%s: cannot read the %s key store file: %s", path, what, strerror(-ret));
	b = BIO_new_mem_buf(data, (int)len);
	if (cert)
		*cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	else
		*key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	free(data);
	ERR_clear_error();
	if (cert ? !*cert : !*key)
		return err_set(EINVAL, "%s: not a valid PEM %s (damaged %s key store: remove %s to make a new one)",
			       path, cert ? "certificate" : "private key", what, dir);
	return 0;
}

int keystore_cert_pem(X509 *x, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	*pem = NULL;
	if (!b || !PEM_write_bio_X509(b, x) || (n = BIO_get_mem_data(b, &p)) <= 0 || !(*pem = malloc((size_t)n + 1))) {
		BIO_free(b);
		return err_set(ENOMEM, "out of memory");
	}
	memcpy(*pem, p, (size_t)n);
	(*pem)[n] = 0;
	*len = (size_t)n;
	BIO_free(b);
	return 0;
}
