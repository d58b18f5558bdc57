/* The initial VMSA (VM save area) of a vCPU, as the VMM hands it to
 * LAUNCH_UPDATE_VMSA. Offsets: AMD64 APM vol. 2, appendix B, table B-4
 * ("VMSA layout, state save area for SEV-ES"); the same names as Linux's
 * struct sev_es_save_area (arch/x86/include/asm/svm.h).
 *
 * The register values are the x86 reset state as KVM + QEMU set it (KVM
 * sets EFER.SVME, CR4.MCE; QEMU the FPU control words and RDX = CPUID
 * signature). EC2 and GCE differ slightly; the values follow what those
 * hypervisors are known to load (virtee/sev-snp-measure vmsa.py). */
#include <string.h>

#include "common/common.h"
#include "sev.h"

/* Field offsets in the save area. */
enum {
	VMSA_ES = 0x000, VMSA_CS = 0x010, VMSA_SS = 0x020, VMSA_DS = 0x030, VMSA_FS = 0x040, VMSA_GS = 0x050,
	VMSA_GDTR = 0x060, VMSA_LDTR = 0x070, VMSA_IDTR = 0x080, VMSA_TR = 0x090,
	VMSA_EFER = 0x0d0, VMSA_CR4 = 0x148, VMSA_CR0 = 0x158, VMSA_DR7 = 0x160, VMSA_DR6 = 0x168,
	VMSA_RFLAGS = 0x170, VMSA_RIP = 0x178, VMSA_G_PAT = 0x268, VMSA_RDX = 0x310,
	VMSA_SEV_FEATURES = 0x3b0, VMSA_XCR0 = 0x3e8, VMSA_MXCSR = 0x408, VMSA_X87_FCW = 0x410,
};

/* struct vmcb_seg: u16 selector, u16 attrib, u32 limit, u64 base. */
static void put_seg(uint8_t *page, unsigned off, uint16_t sel, uint16_t attrib, uint32_t limit, uint64_t base)
{
	put_le16(page + off, sel);
	put_le16(page + off + 2, attrib);
	put_le32(page + off + 4, limit);
	put_le64(page + off + 8, base);
}

void sev_vmsa_build(uint8_t page[SEV_PAGE_SIZE], uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig,
		    enum sev_vmm_type vmm)
{
	uint16_t cs_attr = 0x9b, ss_attr = 0x93, tr_attr = 0x8b, fcw = 0x37f;
	uint64_t g_pat = 0x0007040600070406ull; /* PAT reset value, APM vol. 2 A.3 */
	uint64_t rdx = vcpu_sig;
	uint32_t mxcsr = 0x1f80;

	switch (vmm) {
	case SEV_VMM_QEMU:
		break;
	case SEV_VMM_EC2:
		/* EC2 loads the BSP's CS as non-accessed code, SS/TR likewise
		 * without the accessed/busy bits, a fixed RDX and a clear FPU. */
		cs_attr = eip == SEV_BSP_EIP ? 0x9a : 0x9b;
		ss_attr = 0x92;
		tr_attr = 0x83;
		rdx = 0x600;
		mxcsr = 0;
		fcw = 0;
		break;
	case SEV_VMM_GCE:
		g_pat = 0x00070106; /* the GCE hypervisor overrides the PAT */
		rdx = 0x600;
		mxcsr = 0;
		fcw = 0;
		break;
	}

	memset(page, 0, SEV_PAGE_SIZE);
	put_seg(page, VMSA_ES, 0, 0x93, 0xffff, 0);
	/* Real mode: CS.base holds the upper bits of the entry point and RIP the
	 * low 16 (reset vector 0xfffffff0 = f000:fff0 with base 0xffff0000). */
	put_seg(page, VMSA_CS, 0xf000, cs_attr, 0xffff, eip & 0xffff0000u);
	put_seg(page, VMSA_SS, 0, ss_attr, 0xffff, 0);
	put_seg(page, VMSA_DS, 0, 0x93, 0xffff, 0);
	put_seg(page, VMSA_FS, 0, 0x93, 0xffff, 0);
	put_seg(page, VMSA_GS, 0, 0x93, 0xffff, 0);
	put_seg(page, VMSA_GDTR, 0, 0, 0xffff, 0);
	put_seg(page, VMSA_LDTR, 0, 0x82, 0xffff, 0);
	put_seg(page, VMSA_IDTR, 0, 0, 0xffff, 0);
	put_seg(page, VMSA_TR, 0, tr_attr, 0xffff, 0);
	put_le64(page + VMSA_EFER, 0x1000);   /* EFER.SVME: KVM requires it for SEV-ES */
	put_le64(page + VMSA_CR4, 0x40);      /* CR4.MCE */
	put_le64(page + VMSA_CR0, 0x10);      /* CR0.ET */
	put_le64(page + VMSA_DR7, 0x400);
	put_le64(page + VMSA_DR6, 0xffff0ff0);
	put_le64(page + VMSA_RFLAGS, 0x2);
	put_le64(page + VMSA_RIP, eip & 0xffffu);
	put_le64(page + VMSA_G_PAT, g_pat);
	put_le64(page + VMSA_RDX, rdx);
	put_le64(page + VMSA_SEV_FEATURES, sev_features);
	put_le64(page + VMSA_XCR0, 0x1);
	put_le32(page + VMSA_MXCSR, mxcsr);
	put_le16(page + VMSA_X87_FCW, fcw);
}

/* General-purpose registers not named in the enum above (APM table B-4:
 * RSP 0x1D8, RAX 0x1F8, RCX 0x308, RBX 0x318, RBP 0x328, RSI 0x330,
 * RDI 0x338; CR3 0x150). */
enum { VMSA_CR3 = 0x150, VMSA_RSP = 0x1d8, VMSA_RAX = 0x1f8, VMSA_RCX = 0x308, VMSA_RBX = 0x318,
       VMSA_RBP = 0x328, VMSA_RSI = 0x330, VMSA_RDI = 0x338 };

static void get_seg(const uint8_t *page, unsigned off, struct sev_seg *s)
{
	s->selector = le16(page + off);
	s->attrib = le16(page + off + 2);
	s->limit = le32(page + off + 4);
	s->base = le64(page + off + 8);
}

/* One table of (offset, member) for the 64-bit fields keeps encode and
 * decode from drifting apart. */
#define STATE_U64(X)                                                                                        \
	X(VMSA_EFER, efer) X(VMSA_CR4, cr4) X(VMSA_CR3, cr3) X(VMSA_CR0, cr0) X(VMSA_DR7, dr7)                \
	X(VMSA_DR6, dr6) X(VMSA_RFLAGS, rflags) X(VMSA_RIP, rip) X(VMSA_RSP, rsp) X(VMSA_RAX, rax)              \
	X(VMSA_G_PAT, g_pat) X(VMSA_RCX, rcx) X(VMSA_RDX, rdx) X(VMSA_RBX, rbx) X(VMSA_RBP, rbp)               \
	X(VMSA_RSI, rsi) X(VMSA_RDI, rdi) X(VMSA_SEV_FEATURES, sev_features) X(VMSA_XCR0, xcr0)
#define STATE_SEGS(X)                                                                                       \
	X(VMSA_ES, es) X(VMSA_CS, cs) X(VMSA_SS, ss) X(VMSA_DS, ds) X(VMSA_FS, fs) X(VMSA_GS, gs)             \
	X(VMSA_GDTR, gdtr) X(VMSA_LDTR, ldtr) X(VMSA_IDTR, idtr) X(VMSA_TR, tr)

void sev_vmsa_encode(uint8_t page[SEV_PAGE_SIZE], const struct sev_cpu_state *s)
{
	memset(page, 0, SEV_PAGE_SIZE);
#define PUT_SEG(off, m) put_seg(page, off, s->m.selector, s->m.attrib, s->m.limit, s->m.base);
#define PUT_U64(off, m) put_le64(page + off, s->m);
	STATE_SEGS(PUT_SEG)
	STATE_U64(PUT_U64)
	put_le32(page + VMSA_MXCSR, s->mxcsr);
	put_le16(page + VMSA_X87_FCW, s->x87_fcw);
}

void sev_vmsa_decode(const uint8_t page[SEV_PAGE_SIZE], struct sev_cpu_state *s)
{
	memset(s, 0, sizeof(*s));
#define GET_SEG(off, m) get_seg(page, off, &s->m);
#define GET_U64(off, m) s->m = le64(page + off);
	STATE_SEGS(GET_SEG)
	STATE_U64(GET_U64)
	s->mxcsr = le32(page + VMSA_MXCSR);
	s->x87_fcw = le16(page + VMSA_X87_FCW);
}
