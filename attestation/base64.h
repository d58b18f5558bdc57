/* base64.h - RFC 4648 base64 (standard alphabet, padded) over OpenSSL's
 * EVP_EncodeBlock/EVP_DecodeBlock, with the strictness they lack: the
 * decoder accepts only canonical text (no whitespace, padding only at the
 * end) and returns the true length. Internal to attestation/. */
#ifndef CVMM_ATTESTATION_BASE64_H
#define CVMM_ATTESTATION_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* *out: malloc'ed, NUL-terminated. */
int att_b64_encode(const uint8_t *p, size_t n, char **out);
/* Decode s (len chars) into a malloc'ed *out of at most max bytes; what
 * names the field in errors. */
int att_b64_decode(const char *s, size_t len, size_t max, const char *what, uint8_t **out, size_t *out_len);

#endif
