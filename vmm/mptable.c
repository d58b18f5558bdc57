/* mptable.c - the Intel MultiProcessor Specification 1.4 table (chapter 4):
 * processors, the PCI and ISA buses, the IOAPIC and which IOAPIC pin each
 * interrupt source uses. Linux reads it when it boots without ACPI
 * (acpi=off); with ACPI the MADT and the DSDT _PRT say the same. */
#include <errno.h>
#include <string.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

#define MPF_LEN 16          /* floating pointer structure (§4.1) */
#define MPC_HDR_LEN 44      /* configuration table header (§4.2) */
#define MPC_CPU_LEN 20
#define MPC_SHORT_LEN 8     /* bus, IOAPIC, interrupt entries */
#define MP_BUS_PCI 0
#define MP_BUS_ISA 1
/* I/O interrupt flags (§4.3.4): polarity bits 1:0, trigger bits 3:2. */
#define MP_IRQ_CONFORM 0x0
#define MP_IRQ_LEVEL_LOW 0xf

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static uint8_t *irq_entry(uint8_t *p, uint8_t type, uint8_t kind, uint16_t flags, uint8_t bus,
			  uint8_t bus_irq, uint8_t dst_id, uint8_t dst_pin)
{
	p[0] = type; /* 3: I/O interrupt, 4: local interrupt */
	p[1] = kind; /* 0 INT, 1 NMI, 2 SMI, 3 ExtINT */
	put_le16(p + 2, flags);
	p[4] = bus;
	p[5] = bus_irq;
	p[6] = dst_id;
	p[7] = dst_pin;
	return p + MPC_SHORT_LEN;
}

int vmm_mptable_build(uint8_t *buf, size_t cap, uint32_t gpa, unsigned ncpus,
		      const struct mpt_pci_irq *irqs, unsigned nirqs, size_t *len)
{
	const unsigned nisa = 15; /* ISA IRQs 0-15 except the cascade (2) */
	size_t need = MPF_LEN + MPC_HDR_LEN + (size_t)ncpus * MPC_CPU_LEN +
		      (size_t)(2 + 1 + nisa + nirqs + 2) * MPC_SHORT_LEN;
	if (ncpus == 0 || ncpus > 254 || need > cap || need > 0xffff + MPF_LEN)
		return err_set(ENOSPC, "MP table: %u CPUs and %u PCI interrupts do not fit", ncpus, nirqs);
	memset(buf, 0, need);
	uint8_t ioapic_id = MPT_IOAPIC_ID_FOR(ncpus);

	/* Floating pointer: physical address of the config table right after. */
	memcpy(buf, "_MP_", 4);
	put_le32(buf + 4, gpa + MPF_LEN);
	buf[8] = 1;    /* length in 16-byte units */
	buf[9] = 4;    /* spec revision 1.4 */
	/* feature byte 1 = 0: a configuration table is present */
	buf[10] = (uint8_t)-sum8(buf, MPF_LEN);

	uint8_t *h = buf + MPF_LEN, *p = h + MPC_HDR_LEN;
	unsigned count = 0;
	for (unsigned i = 0; i < ncpus; i++, count++) {
		p[0] = 0;             /* processor */
		p[1] = (uint8_t)i;    /* local APIC id = vCPU index (cpuid.c says the same) */
		p[2] = 0x14;          /* local APIC version */
		p[3] = (uint8_t)(0x1 | (i == 0 ? 0x2 : 0)); /* enabled, BSP */
		put_le32(p + 4, 0x600); /* family 6 signature */
		put_le32(p + 8, 0x201); /* FPU, APIC */
		p += MPC_CPU_LEN;
	}
	p[0] = 1; p[1] = MP_BUS_PCI; memcpy(p + 2, "PCI   ", 6); p += MPC_SHORT_LEN; count++;
	p[0] = 1; p[1] = MP_BUS_ISA; memcpy(p + 2, "ISA   ", 6); p += MPC_SHORT_LEN; count++;
	p[0] = 2; p[1] = ioapic_id; p[2] = 0x11; p[3] = 1; /* IOAPIC, enabled */
	put_le32(p + 4, IOAPIC_GPA);
	p += MPC_SHORT_LEN; count++;
	for (unsigned irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;
		p = irq_entry(p, 3, 0, MP_IRQ_CONFORM, MP_BUS_ISA, (uint8_t)irq, ioapic_id, (uint8_t)irq);
		count++;
	}
	for (unsigned i = 0; i < nirqs; i++, count++)
		/* source bus irq for PCI: device number in bits 6:2, INTA# = 0 (§D.3) */
		p = irq_entry(p, 3, 0, MP_IRQ_LEVEL_LOW, MP_BUS_PCI, (uint8_t)(irqs[i].slot << 2),
			      ioapic_id, irqs[i].gsi);
	/* LINT0 ExtINT (the 8259), LINT1 NMI, on every local APIC (0xff). */
	p = irq_entry(p, 4, 3, MP_IRQ_CONFORM, MP_BUS_ISA, 0, 0xff, 0);
	p = irq_entry(p, 4, 1, MP_IRQ_CONFORM, MP_BUS_ISA, 0, 0xff, 1);
	count += 2;

	memcpy(h, "PCMP", 4);
	put_le16(h + 4, (uint16_t)(p - h));
	h[6] = 4;
	memcpy(h + 8, "CVMM    ", 8);
	memcpy(h + 16, "CVMM-KVM    ", 12);
	put_le16(h + 34, (uint16_t)count);
	put_le32(h + 36, LAPIC_GPA);
	h[7] = (uint8_t)-sum8(h, (size_t)(p - h));
	*len = (size_t)(p - buf);
	return 0;
}
