/* dsdt.asl - cvmm's DSDT (ACPI 6.x §5.2.11.1): the PCI root bridge on
 * configuration mechanism #1 with its resource windows and the INTA# routing
 * of every slot (_PRT: slot s -> GSI 16 + s % 8, level, active low; the MP
 * table says the same), COM1 (the 8250 at 0x3F8, IRQ 4), and \_S5 for power-off through the
 * hardware-reduced sleep control register (FADT).
 * Compiled with `iasl -tc` by scripts/gen-dsdt; the result is
 * vmm/dsdt_aml.h, committed so the build needs no ACPI compiler. */
DefinitionBlock ("dsdt.aml", "DSDT", 2, "CVMM  ", "CVMMDSDT", 1)
{
    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_SEG, Zero)
            Name (_BBN, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x0000, 0x0000, 0x0001)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
            })
            Name (_PRT, Package ()
            {
                Package () { 0x0001FFFF, Zero, Zero, 17 },
                Package () { 0x0002FFFF, Zero, Zero, 18 },
                Package () { 0x0003FFFF, Zero, Zero, 19 },
                Package () { 0x0004FFFF, Zero, Zero, 20 },
                Package () { 0x0005FFFF, Zero, Zero, 21 },
                Package () { 0x0006FFFF, Zero, Zero, 22 },
                Package () { 0x0007FFFF, Zero, Zero, 23 },
                Package () { 0x0008FFFF, Zero, Zero, 16 },
                Package () { 0x0009FFFF, Zero, Zero, 17 },
                Package () { 0x000AFFFF, Zero, Zero, 18 },
                Package () { 0x000BFFFF, Zero, Zero, 19 },
                Package () { 0x000CFFFF, Zero, Zero, 20 },
                Package () { 0x000DFFFF, Zero, Zero, 21 },
                Package () { 0x000EFFFF, Zero, Zero, 22 },
                Package () { 0x000FFFFF, Zero, Zero, 23 },
                Package () { 0x0010FFFF, Zero, Zero, 16 },
                Package () { 0x0011FFFF, Zero, Zero, 17 },
                Package () { 0x0012FFFF, Zero, Zero, 18 },
                Package () { 0x0013FFFF, Zero, Zero, 19 },
                Package () { 0x0014FFFF, Zero, Zero, 20 },
                Package () { 0x0015FFFF, Zero, Zero, 21 },
                Package () { 0x0016FFFF, Zero, Zero, 22 },
                Package () { 0x0017FFFF, Zero, Zero, 23 },
                Package () { 0x0018FFFF, Zero, Zero, 16 },
                Package () { 0x0019FFFF, Zero, Zero, 17 },
                Package () { 0x001AFFFF, Zero, Zero, 18 },
                Package () { 0x001BFFFF, Zero, Zero, 19 },
                Package () { 0x001CFFFF, Zero, Zero, 20 },
                Package () { 0x001DFFFF, Zero, Zero, 21 },
                Package () { 0x001EFFFF, Zero, Zero, 22 },
                Package () { 0x001FFFFF, Zero, Zero, 23 }
            })
        }
    }
    Scope (\_SB)
    {
        /* COM1: hardware-reduced ACPI has no legacy PIC, so Linux maps
         * ISA IRQs only for devices described here (ACPI 6.4 §6.4.2.1). */
        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                IRQNoFlags () {4}
            })
        }
    }
    Name (_S5, Package () { 0x05, Zero, Zero, Zero })
}
