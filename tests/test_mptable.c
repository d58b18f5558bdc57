/* Unit tests: the MP table (Intel MP spec 1.4 ch. 4) - checksums, layout,
 * processor / bus / IOAPIC / interrupt entries; the ACPI tables (RSDP,
 * XSDT, FADT, MADT, DSDT) - checksums and what Linux reads from them; the
 * per-vCPU CPUID topology. */
#include <errno.h>
#include "vmm/kvm_uapi.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_mptable_layout(void **state)
{
	uint8_t buf[4096];
	size_t len;
	struct mpt_pci_irq irqs[] = { { 1, 17 }, { 2, 18 }, { 9, 17 } };
	const uint32_t gpa = BOOT_MPTABLE_GPA;
	(void)state;
	assert_int_equal(vmm_mptable_build(buf, sizeof(buf), gpa, 4, irqs, 3, &len), 0);
	/* floating pointer: "_MP_", 16 bytes, checksum, points right after */
	assert_memory_equal(buf, "_MP_", 4);
	assert_int_equal(buf[8], 1);
	assert_int_equal(buf[9], 4);
	assert_int_equal(sum(buf, 16), 0);
	assert_int_equal(le32(buf + 4), gpa + 16);
	assert_int_equal(buf[11], 0); /* feature 1: table present, not a default config */
	/* configuration table header */
	uint8_t *h = buf + 16;
	uint16_t tlen = le16(h + 4), count = le16(h + 34);
	assert_memory_equal(h, "PCMP", 4);
	assert_int_equal(h[6], 4);
	assert_int_equal(sum(h, tlen), 0);
	assert_int_equal(16 + tlen, len);
	assert_int_equal(le32(h + 36), LAPIC_GPA);
	/* 4 CPUs + 2 buses + IOAPIC + 15 ISA + 3 PCI + 2 local = 27 entries */
	assert_int_equal(count, 27);
	uint8_t *p = h + 44, *end = h + tlen;
	unsigned cpus = 0, bsp = 0, buses = 0, ioapics = 0, isa = 0, pci = 0, local = 0;
	uint8_t ioapic_id = 0xff;
	for (unsigned i = 0; i < count; i++) {
		assert_true(p < end);
		switch (p[0]) {
		case 0:
			assert_int_equal(p[1], cpus); /* APIC id = index */
			assert_true(p[3] & 1);
			bsp += (p[3] & 2) != 0;
			cpus++;
			p += 20;
			continue;
		case 1:
			assert_true(!memcmp(p + 2, "PCI   ", 6) || !memcmp(p + 2, "ISA   ", 6));
			buses++;
			break;
		case 2:
			ioapic_id = p[1];
			assert_int_equal(le32(p + 4), IOAPIC_GPA);
			ioapics++;
			break;
		case 3:
			assert_int_equal(p[6], ioapic_id);
			if (p[4] == 1) { /* ISA: identity pins */
				assert_int_equal(p[5], p[7]);
				assert_int_not_equal(p[5], 2);
				isa++;
			} else { /* PCI: device << 2 | INTA, level / active low */
				assert_int_equal(p[4], 0);
				assert_int_equal(p[5] & 3, 0);
				assert_int_equal(le16(p + 2), 0xf);
				assert_int_equal(p[7], irqs[pci].gsi);
				assert_int_equal(p[5] >> 2, irqs[pci].slot);
				pci++;
			}
			break;
		case 4:
			assert_int_equal(p[6], 0xff);
			local++;
			break;
		default:
			fail_msg("unknown entry type %u", p[0]);
		}
		p += 8;
	}
	assert_ptr_equal(p, end);
	assert_int_equal(cpus, 4);
	assert_int_equal(bsp, 1);
	assert_int_equal(buses, 2);
	assert_int_equal(ioapics, 1);
	assert_int_equal(ioapic_id, 4); /* after the LAPIC ids */
	assert_int_equal(isa, 15);
	assert_int_equal(pci, 3);
	assert_int_equal(local, 2);
}

static void test_mptable_limits(void **state)
{
	uint8_t buf[256];
	size_t len;
	(void)state;
	assert_int_equal(vmm_mptable_build(buf, sizeof(buf), 0, 0, NULL, 0, &len), -ENOSPC);
	assert_int_equal(vmm_mptable_build(buf, sizeof(buf), 0, 64, NULL, 0, &len), -ENOSPC);
	assert_non_null(strstr(err_msg(), "MP table"));
}

static const uint8_t *acpi_table(const uint8_t *buf, uint32_t base, uint64_t gpa)
{
	return buf + (gpa - base);
}

static void test_acpi(void **state)
{
	static uint8_t buf[BOOT_ACPI_SIZE];
	size_t len;
	(void)state;
	assert_int_equal(vmm_acpi_build(buf, sizeof(buf), BOOT_ACPI_GPA, 3, &len), 0);
	/* RSDP v2: both checksums, XSDT pointer */
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(buf[15], 2);
	assert_int_equal(sum(buf, 20), 0);
	assert_int_equal(sum(buf, 36), 0);
	const uint8_t *x = acpi_table(buf, BOOT_ACPI_GPA, le64(buf + 24));
	assert_memory_equal(x, "XSDT", 4);
	assert_int_equal(sum(x, le32(x + 4)), 0);
	assert_int_equal(le32(x + 4), 36 + 16);
	const uint8_t *f = acpi_table(buf, BOOT_ACPI_GPA, le64(x + 36));
	const uint8_t *m = acpi_table(buf, BOOT_ACPI_GPA, le64(x + 44));
	/* FADT: revision 6, hardware-reduced, sleep/reset registers at the port */
	assert_memory_equal(f, "FACP", 4);
	assert_int_equal(le32(f + 4), 276);
	assert_int_equal(f[8], 6);
	assert_int_equal(sum(f, 276), 0);
	assert_true(le32(f + 112) & (1u << 20));
	assert_true(le32(f + 112) & (1u << 10));
	assert_int_equal(f[244], 1);                 /* system I/O */
	assert_int_equal(le64(f + 248), ACPI_SLEEP_PORT);
	assert_int_equal(le64(f + 120), ACPI_SLEEP_PORT);
	assert_int_equal(f[128], ACPI_RESET_VALUE);
	assert_true(le16(f + 109) & (1 << 5));       /* no CMOS RTC */
	const uint8_t *d = acpi_table(buf, BOOT_ACPI_GPA, le64(f + 140));
	assert_memory_equal(d, "DSDT", 4);
	assert_int_equal(sum(d, le32(d + 4)), 0);
	assert_true(d + le32(d + 4) <= buf + len);
	/* the AML names the PCI root, its routing, COM1 and \_S5 */
	const char *names[] = { "PCI0", "_PRT", "COM1", "_S5_" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_non_null(memmem(d, le32(d + 4), names[i], 4));
	/* MADT: 3 enabled local APICs with ids 0..2, one IOAPIC, LINT1 NMI */
	assert_memory_equal(m, "APIC", 4);
	uint32_t mlen = le32(m + 4);
	assert_int_equal(sum(m, mlen), 0);
	assert_int_equal(le32(m + 36), LAPIC_GPA);
	unsigned lapics = 0, ioapics = 0, nmis = 0;
	for (const uint8_t *p = m + 44; p < m + mlen; p += p[1]) {
		assert_true(p[1] >= 2);
		if (p[0] == 0) {
			assert_int_equal(p[3], lapics);
			assert_int_equal(le32(p + 4) & 1, 1);
			lapics++;
		} else if (p[0] == 1) {
			assert_int_equal(le32(p + 4), IOAPIC_GPA);
			assert_int_equal(le32(p + 8), 0);
			ioapics++;
		} else if (p[0] == 4) {
			assert_int_equal(p[5], 1);
			nmis++;
		}
	}
	assert_int_equal(lapics, 3);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
	assert_int_equal(vmm_acpi_build(buf, 512, BOOT_ACPI_GPA, 3, &len), -ENOSPC);
}

static void test_cpuid_topology(void **state)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 7 * sizeof(c->entries[0]));
	(void)state;
	c->nent = 7;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0xff0800 | 0x10, .ecx = 1u << 5 };
	c->entries[6] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .ecx = 0x7 };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1 };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 2 };
	c->entries[4] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0xf0ff };
	c->entries[5] = (struct kvm_cpuid_entry2){ .function = 6, .eax = 0x77 };
	vmm_cpuid_adjust(c, 2, 3, true);
	assert_int_equal(c->entries[0].ebx >> 24, 2);          /* APIC id */
	assert_int_equal((c->entries[0].ebx >> 16) & 0xff, 3); /* logical CPUs */
	assert_int_equal(c->entries[0].ebx & 0xffff, 0x0810);  /* clflush etc. kept */
	assert_true(c->entries[0].edx & (1u << 28));           /* HTT */
	assert_true(c->entries[0].ecx & (1u << 24));           /* TSC deadline */
	assert_true(c->entries[0].ecx & (1u << 31));           /* hypervisor */
	assert_false(c->entries[0].ecx & (1u << 5));           /* no VMX */
	assert_int_equal(c->entries[6].ecx, 0x3);              /* no SVM, rest kept */
	assert_int_equal(c->entries[1].edx, 2);
	assert_int_equal(c->entries[1].ebx, 1);
	assert_int_equal(c->entries[1].ecx, 0x100);
	assert_int_equal(c->entries[2].eax, 2); /* shift: 3 cores need 2 bits */
	assert_int_equal(c->entries[2].ebx, 3);
	assert_int_equal(c->entries[2].ecx, 0x201);
	assert_int_equal(c->entries[3].ebx, 0);
	assert_int_equal(c->entries[3].ecx, 2);
	assert_int_equal(c->entries[4].ecx & 0xff, 2);
	assert_int_equal((c->entries[4].ecx >> 12) & 0xf, 2);
	assert_int_equal(c->entries[5].eax, 0);
	/* one vCPU: no HTT, id 0 */
	vmm_cpuid_adjust(c, 0, 1, false);
	assert_int_equal(c->entries[0].ebx >> 24, 0);
	assert_false(c->entries[0].edx & (1u << 28));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mptable_layout),
		cmocka_unit_test(test_mptable_limits),
		cmocka_unit_test(test_acpi),
		cmocka_unit_test(test_cpuid_topology),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
