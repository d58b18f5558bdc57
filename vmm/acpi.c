/* acpi.c - the minimal ACPI a firmware-less x86 guest needs (ACPI 6.4):
 * RSDP -> XSDT -> FADT (hardware-reduced, §4.1: no PM1/GPE blocks, no SCI),
 * MADT (one local APIC per vCPU, the IOAPIC, LINT1 NMI) and the DSDT
 * (vmm/dsdt.asl: PCI root + _PRT, \_S5). Power-off and reset go through
 * the FADT sleep control and reset registers, both at ACPI_SLEEP_PORT. */
#include <errno.h>
#include <string.h>

#include "common/common.h"
#include "vmm/dsdt_aml.h"
#include "vmm/vmm_core.h"

#define RSDP_LEN 36
#define HDR_LEN 36
#define FADT_LEN 276 /* revision 6 */

uint8_t vmm_acpi_checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return (uint8_t)-s;
}

/* System description table header (§5.2.6); checksum filled by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "CVMM  ", 6);
	memcpy(t + 16, "CVMM-KVM", 8);
	put_le32(t + 24, 1);
	memcpy(t + 28, "CVMM", 4);
	put_le32(t + 32, 1);
}
static void finish(uint8_t *t, uint32_t len) { t[9] = 0; t[9] = vmm_acpi_checksum(t, len); }

/* Generic address structure (§5.2.3.2): a byte-wide I/O port. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = 1; /* system I/O */
	g[1] = 8; /* bit width */
	g[2] = 0;
	g[3] = 1; /* byte access */
	put_le64(g + 4, port);
}

int vmm_acpi_build(uint8_t *buf, size_t cap, uint32_t gpa, unsigned ncpus, size_t *len)
{
	const uint32_t xsdt_off = 0x40, fadt_off = 0x80, madt_off = 0x200;
	uint32_t madt_len = HDR_LEN + 8 + 8 * ncpus + 12 + 6;
	uint32_t dsdt_off = (madt_off + madt_len + 15) & ~15u;
	size_t total = dsdt_off + sizeof(dsdt_aml);
	if (ncpus == 0 || ncpus > 255 || total > cap)
		return err_set(ENOSPC, "ACPI tables for %u CPUs do not fit in %zu bytes", ncpus, cap);
	memset(buf, 0, total);

	/* RSDP (§5.2.5.3), revision 2: XSDT only. */
	uint8_t *r = buf;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "CVMM  ", 6);
	r[15] = 2;
	put_le32(r + 20, RSDP_LEN);
	put_le64(r + 24, gpa + xsdt_off);
	r[8] = vmm_acpi_checksum(r, 20);
	r[32] = vmm_acpi_checksum(r, RSDP_LEN);

	/* XSDT (§5.2.8) */
	uint8_t *x = buf + xsdt_off;
	uint32_t xlen = HDR_LEN + 2 * 8;
	header(x, "XSDT", xlen, 1);
	put_le64(x + HDR_LEN, gpa + fadt_off);
	put_le64(x + HDR_LEN + 8, gpa + madt_off);
	finish(x, xlen);

	/* FADT (§5.2.9, Table 5.9) */
	uint8_t *f = buf + fadt_off;
	header(f, "FACP", FADT_LEN, 6);
	/* IAPC_BOOT_ARCH (§5.2.9.3): no VGA (bit 2), ASPM off (bit 4), no CMOS RTC (bit 5) */
	put_le16(f + 109, (1 << 2) | (1 << 4) | (1 << 5));
	/* Flags (Table 5.10): RESET_REG_SUP (10), HW_REDUCED_ACPI (20) */
	put_le32(f + 112, (1u << 10) | (1u << 20));
	gas_io8(f + 116, ACPI_SLEEP_PORT); /* RESET_REG */
	f[128] = ACPI_RESET_VALUE;
	f[131] = 4;                        /* FADT minor version: 6.4 */
	put_le64(f + 140, gpa + dsdt_off); /* X_DSDT */
	gas_io8(f + 244, ACPI_SLEEP_PORT); /* SLEEP_CONTROL_REG */
	gas_io8(f + 256, ACPI_SLEEP_PORT); /* SLEEP_STATUS_REG */
	memcpy(f + 268, "CVMM-KVM", 8);    /* hypervisor vendor identity */
	finish(f, FADT_LEN);

	/* MADT (§5.2.12) */
	uint8_t *m = buf + madt_off, *p = m + HDR_LEN;
	header(m, "APIC", madt_len, 5);
	put_le32(p, LAPIC_GPA);
	put_le32(p + 4, 0); /* no PC-AT 8259s: hardware-reduced guests use the IOAPIC */
	p += 8;
	for (unsigned i = 0; i < ncpus; i++, p += 8) {
		p[0] = 0; p[1] = 8;     /* processor local APIC */
		p[2] = (uint8_t)i;      /* ACPI processor UID */
		p[3] = (uint8_t)i;      /* APIC id (cpuid.c) */
		put_le32(p + 4, 1);     /* enabled */
	}
	p[0] = 1; p[1] = 12;            /* I/O APIC */
	p[2] = MPT_IOAPIC_ID_FOR(ncpus);
	put_le32(p + 4, IOAPIC_GPA);
	put_le32(p + 8, 0);             /* GSI base */
	p += 12;
	p[0] = 4; p[1] = 6;             /* local APIC NMI */
	p[2] = 0xff;                    /* all processors */
	put_le16(p + 3, 0);
	p[5] = 1;                       /* LINT1 */
	finish(m, madt_len);

	memcpy(buf + dsdt_off, dsdt_aml, sizeof(dsdt_aml));
	*len = total;
	return 0;
}
