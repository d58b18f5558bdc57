/* common.h - the small base every cvmm module builds on: error reporting,
 * hex, bounds-checked little-endian readers over (pointer, length) buffers,
 * and whole-file I/O that never leaves half-written output.
 *
 * Error convention (design.md): functions return 0 or a negative errno. The
 * message is built once, near the cause, with err_set(), and printed once at
 * the top (main) with err_msg(). The buffer is thread-local. */
#ifndef CVMM_COMMON_H
#define CVMM_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ---- */
/* Record "fmt ..." as the current error and return -err (err > 0). */
int err_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current error with "fmt: " (adds outer context); returns -err. */
int err_wrap(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *err_msg(void);
void err_clear(void);

/* ---- hex ---- */
/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Decode a hex string (optional 0x prefix, even length) into exactly n bytes.
 * what names the input in the error message. */
int hex_decode_exact(const char *s, uint8_t *out, size_t n, const char *what);
/* Decode at most max bytes; *got receives the count. */
int hex_decode(const char *s, uint8_t *out, size_t max, size_t *got, const char *what);
/* Parse an unsigned integer (decimal or 0x-hex) with range check. */
int parse_u64(const char *s, uint64_t max, uint64_t *out, const char *what);
/* Parse a size with optional K/M/G/T suffix (binary units). */
int parse_size(const char *s, uint64_t *out, const char *what);

/* ---- little-endian access on bytes that are known to be in bounds ---- */
static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }
static inline void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- bounds-checked reader over untrusted bytes ----
 * Every failed read sets an error naming `what`, the field and the offset,
 * and leaves the reader in a failed state (all later reads fail too). */
struct reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	const char *what; /* e.g. "report.bin" */
	bool failed;
};

void rd_init(struct reader *r, const void *p, size_t len, const char *what);
int rd_u8(struct reader *r, const char *field, uint8_t *v);
int rd_u16(struct reader *r, const char *field, uint16_t *v);
int rd_u32(struct reader *r, const char *field, uint32_t *v);
int rd_u64(struct reader *r, const char *field, uint64_t *v);
/* Copy n bytes out. */
int rd_bytes(struct reader *r, const char *field, void *out, size_t n);
/* Borrow a pointer to n bytes (valid as long as the buffer). */
int rd_ptr(struct reader *r, const char *field, size_t n, const uint8_t **out);
int rd_skip(struct reader *r, const char *field, size_t n);
int rd_seek(struct reader *r, const char *field, size_t off);
static inline size_t rd_left(const struct reader *r) { return r->len - r->off; }

/* Check that [off, off+n) lies inside a buffer of len bytes, overflow-safe. */
static inline bool range_ok(uint64_t off, uint64_t n, uint64_t len)
{
	return off <= len && n <= len - off;
}

/* ---- files ---- */
/* Read a whole regular file (at most max bytes, else an error). *data is
 * malloc'ed (free() it); a NUL is appended after the data for text users. */
int file_read(const char *path, size_t max, uint8_t **data, size_t *len);
/* The same for any readable file, read once to its end: regular files,
 * character devices (/dev/null), FIFOs, pipes (/dev/fd/N). Directories are
 * refused; more than max bytes is an error. */
int file_read_any(const char *path, size_t max, uint8_t **data, size_t *len);
/* Write atomically: temp file in the same directory, fsync, rename. */
int file_write(const char *path, const void *data, size_t len);
/* The same with the file's mode (e.g. 0600 for keys and secrets). */
int file_write_mode(const char *path, const void *data, size_t len, unsigned int mode);

/* mkdir -p; directories it creates get mode. */
int file_mkdir_p(const char *path, unsigned int mode);

/* ---- key stores of the simulated platforms (keystore.c; OpenSSL) ----
 * A directory of PEM files made once, atomically (temporary sibling
 * directory renamed into place; files 0600, directories 0700), reused. */
typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;
struct keystore_entry {
	const char *name;       /* file name in the store */
	X509 *cert;             /* a certificate, or */
	EVP_PKEY *key;          /* a private key */
};
/* $XDG_STATE_HOME/cvmm/NAME, else $HOME/.local/state/cvmm/NAME (malloc'ed). */
char *keystore_default_dir(const char *name);
/* true when dir holds none of the files (new or empty). */
bool keystore_absent(const char *dir, const char *const *names, size_t n);
/* Write the entries as a new store at dir; a store made meanwhile by
 * another process wins (0 returned: load it). */
int keystore_create(const char *dir, const struct keystore_entry *e, size_t n);
/* Read one file: a certificate (cert != NULL) or a private key; what
 * ("sim-snp") names the store in errors. */
int keystore_read(const char *dir, const char *name, const char *what, X509 **cert, EVP_PKEY **key);
/* A certificate as PEM text (malloc'ed, NUL-terminated). */
int keystore_cert_pem(X509 *x, char **pem, size_t *len);

/* ---- growable byte buffer ---- */
struct bytebuf {
	uint8_t *data;
	size_t len, cap;
};
int bb_append(struct bytebuf *b, const void *p, size_t n);
int bb_printf(struct bytebuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bb_free(struct bytebuf *b);

#endif
