/* uapi_facts.h - every layout fact of vmm/kvm_uapi.h, sev/sev_uapi.h and
 * tdx/tdx_uapi.h that tests/test_uapi.c compares with Linux 7.2.13. No
 * include guard: it is expanded inside a function body, once per side, with
 * `struct uapi_table *t` in scope and the macros of tests/uapi_table.h.
 * Every struct, every field, every constant the project defines is listed,
 * one file per project header; a definition added to those headers belongs
 * in its list too. */
#include "tests/uapi_facts_kvm.h"
#include "tests/uapi_facts_sev.h"
#include "tests/uapi_facts_tdx.h"
