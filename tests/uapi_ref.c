/* uapi_ref.c - the reference side of tests/test_uapi.c: the fact list
 * (tests/uapi_facts.h) expanded over the Linux 7.2.13 uAPI headers copied
 * into tests/fixtures/uapi/ (provenance in its README.md). Built with
 * -Itests/fixtures/uapi (see the Makefile), so <linux/kvm.h> and the
 * <asm/kvm.h> it includes are those copies, not the build host's. It is a
 * separate translation unit because cvmm's own headers use the same names. */
#include <linux/kvm.h>
#include <linux/kvm_para.h> /* the build host's; its <asm/kvm_para.h> is the copy */
#include <linux/psp-sev.h>
#include <linux/sev-guest.h>
#include <linux/tdx-guest.h>

#include "tests/uapi_table.h"

/* Guard against the build host's headers slipping in: only 7.2-era
 * headers know TDX exits and SNP certificate requests. */
#if !defined(KVM_EXIT_SNP_REQ_CERTS) || !defined(KVM_MAP_GPA_RANGE_ENCRYPTED)
#error "tests/uapi_ref.c must be built with -Itests/fixtures/uapi"
#endif

#define UAPI_THEIRS_OURS(theirs, ours) theirs

void uapi_ref_table(struct uapi_table *t)
{
	t->n = 0;
	t->overflow = 0;
#include "tests/uapi_facts.h"
}
