/* uapi_table.h - a table of layout facts (struct sizes, field offsets and
 * sizes, bit-field positions, constant values) for tests/test_uapi.c.
 *
 * The project's KVM/SEV/TDX definitions use the kernel's names, so they
 * cannot share a translation unit with the kernel headers. The same fact
 * list (tests/uapi_facts.h) is therefore expanded twice: in test_uapi.c over
 * cvmm's headers and in tests/uapi_ref.c over the copied Linux headers
 * (tests/fixtures/uapi/), and the test compares the two tables by name. */
#ifndef CVMM_TESTS_UAPI_TABLE_H
#define CVMM_TESTS_UAPI_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define UAPI_MAX_FACTS 4096

struct uapi_fact {
	const char *section; /* "kvm", "sev", "tdx" */
	const char *name;    /* "struct kvm_run.io.port", "KVM_RUN" */
	const char *what;    /* "size", "offset", "field size", "element size", "bit", "bits", "value" */
	uint64_t value;
};

struct uapi_table {
	const char *section;
	size_t n;
	int overflow;
	struct uapi_fact f[UAPI_MAX_FACTS];
};

static inline void uapi_put(struct uapi_table *t, const char *name, const char *what, uint64_t value)
{
	if (t->n == UAPI_MAX_FACTS) {
		t->overflow = 1;
		return;
	}
	t->f[t->n++] = (struct uapi_fact){ t->section, name, what, value };
}

/* Position and width of an unsigned bit-field, found by setting all of its
 * bits in a zeroed object (offsetof cannot name a bit-field). */
static inline void uapi_bits(struct uapi_table *t, const char *name, const unsigned char *p, size_t len)
{
	uint64_t first = UINT64_MAX, count = 0;
	for (size_t i = 0; i < len * 8; i++)
		if (p[i / 8] & (1u << (i % 8))) {
			if (first == UINT64_MAX)
				first = i;
			count++;
		}
	uapi_put(t, name, "bit", first);
	uapi_put(t, name, "bits", count);
}

/* The fact macros used by tests/uapi_facts.h. UAPI_THEIRS_OURS(theirs, ours)
 * picks the type of the side being built; each side defines it. */
#define UAPI_SECTION(s) t->section = (s);
#define UAPI_SIZE(T) uapi_put(t, #T, "size", sizeof(T));
#define UAPI_FIELD(T, f)                                       \
	uapi_put(t, #T "." #f, "offset", offsetof(T, f));      \
	uapi_put(t, #T "." #f, "field size", sizeof(((T *)0)->f));
#define UAPI_BITFIELD(T, f)                                    \
	do {                                                   \
		T probe_;                                      \
		memset(&probe_, 0, sizeof(probe_));            \
		probe_.f = ~probe_.f;                          \
		uapi_bits(t, #T "." #f, (const unsigned char *)&probe_, sizeof(probe_)); \
	} while (0);
#define UAPI_CONST(c) uapi_put(t, #c, "value", (uint64_t)(c));
/* a flexible array member: where it starts and the size of one element */
#define UAPI_FLEX(T, f)                                        \
	uapi_put(t, #T "." #f, "offset", offsetof(T, f));      \
	uapi_put(t, #T "." #f, "element size", sizeof(((T *)0)->f[0]));
/* a field of a cvmm type that must lie where the kernel type has it */
#define UAPI_FIELD_AS(theirs, ours, f)                                                          \
	uapi_put(t, #theirs " as " #ours "." #f, "offset", offsetof(UAPI_THEIRS_OURS(theirs, ours), f)); \
	uapi_put(t, #theirs " as " #ours "." #f, "field size", sizeof(((UAPI_THEIRS_OURS(theirs, ours) *)0)->f));
/* an array in a cvmm type that must lie where the kernel type has its flexible array */
#define UAPI_FLEX_AS(theirs, ours, f)                                                          \
	uapi_put(t, #theirs " as " #ours "." #f, "offset", offsetof(UAPI_THEIRS_OURS(theirs, ours), f)); \
	uapi_put(t, #theirs " as " #ours "." #f, "element size", sizeof(((UAPI_THEIRS_OURS(theirs, ours) *)0)->f[0]));

/* tests/uapi_ref.c: the table built from the Linux 7.2.13 headers */
void uapi_ref_table(struct uapi_table *t);

#endif
