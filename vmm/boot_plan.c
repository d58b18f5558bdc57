/* boot_plan.c - the launch plan of a direct kernel boot (design.md "one
 * launch plan"): load everything the guest starts with (kernel, initrd,
 * command line, boot_params, page tables and GDT, ACPI and MP tables, the
 * reset stub; with sim-snp also the secrets and CPUID pages and one VMSA
 * per vCPU) into guest memory, and record each region as a page-aligned
 * plan step. `cvmm run` loads the guest with it and every platform replays
 * the result; `cvmm measure --platform sim-snp` folds the same plan built
 * over scratch memory, so the two cannot disagree.
 *
 * The tables do not depend on which devices exist (the MP table routes
 * INTA# of every slot, the DSDT's _PRT does the same), so the plan is a
 * function of kernel, initrd, command line, memory size and vCPU count. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

#define PAGE 4096ull

static uint64_t page_down(uint64_t v) { return v & ~(PAGE - 1); }
static uint64_t page_up(uint64_t v) { return (v + PAGE - 1) & ~(PAGE - 1); }

const char *vmm_default_cmdline(bool console_virtio)
{
	return console_virtio ? "console=hvc0 panic=-1" : "console=ttyS0 panic=-1";
}

/* Record guest memory [gpa, gpa+len), widened to whole pages. */
static int record(struct launch_plan *p, const struct guest_mem *m, uint64_t gpa, uint64_t len,
		  enum plan_kind kind, const char *label)
{
	uint64_t lo = page_down(gpa), hi = page_up(gpa + len);
	struct plan_step s = { .gpa = lo, .len = hi - lo, .kind = kind, .vcpu = -1 };

	s.data = gm_ptr(m, lo, hi - lo);
	if (!s.data)
		return err_set(ENOMEM, "%s at %#llx (%llu bytes) does not fit in guest memory: raise --mem", label,
			       (unsigned long long)lo, (unsigned long long)(hi - lo));
	snprintf(s.label, sizeof(s.label), "%s", label);
	return plan_add(p, &s);
}

static int by_gpa(const void *a, const void *b)
{
	const struct plan_step *x = a, *y = b;

	/* VMSAs (not guest memory) go last, in vCPU order */
	if ((x->kind == PLAN_VMSA) != (y->kind == PLAN_VMSA))
		return x->kind == PLAN_VMSA ? 1 : -1;
	if (x->kind == PLAN_VMSA)
		return x->vcpu - y->vcpu;
	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/* Sorted launch order; overlapping regions would be loaded twice (one
 * overwriting the other): refuse them. */
static int sort_and_check(struct launch_plan *p)
{
	qsort(p->steps, p->n, sizeof(p->steps[0]), by_gpa);
	for (size_t i = 1; i < p->n; i++) {
		const struct plan_step *a = &p->steps[i - 1], *b = &p->steps[i];

		if (b->kind != PLAN_VMSA && a->gpa + a->len > b->gpa)
			return err_set(ENOMEM, "boot data overlap: %s [%#llx, %#llx) and %s at %#llx: raise --mem",
				       a->label, (unsigned long long)a->gpa, (unsigned long long)(a->gpa + a->len),
				       b->label, (unsigned long long)b->gpa);
	}
	return 0;
}

static int tables(struct guest_mem *m, unsigned vcpus)
{
	uint8_t *acpi = gm_ptr(m, BOOT_ACPI_GPA, BOOT_ACPI_SIZE);
	uint8_t *mpt = gm_ptr(m, BOOT_MPTABLE_GPA, BOOT_MPTABLE_SIZE);
	struct mpt_pci_irq irqs[PCI_SLOTS - 1];
	size_t len;
	int rc;

	if (!acpi || !mpt)
		return err_set(ENOMEM, "guest memory too small for the ACPI and MP tables");
	for (unsigned s = 1; s < PCI_SLOTS; s++)
		irqs[s - 1] = (struct mpt_pci_irq){ (uint8_t)s, (uint8_t)pci_slot_gsi(s) };
	rc = vmm_acpi_build(acpi, BOOT_ACPI_SIZE, BOOT_ACPI_GPA, vcpus, &len);
	if (!rc)
		rc = vmm_mptable_build(mpt, BOOT_MPTABLE_SIZE, BOOT_MPTABLE_GPA, vcpus, irqs, PCI_SLOTS - 1, &len);
	return rc;
}

/* One VMSA page per vCPU: the BSP at the kernel entry in long mode, the
 * APs in their INIT state (they are started by the BSP's INIT-SIPI-SIPI). */
static int vmsas(struct launch_plan *p, const struct boot_inputs *in, uint64_t entry)
{
	uint8_t *bsp = calloc(1, PAGE), *ap = in->vcpus > 1 ? calloc(1, PAGE) : NULL;
	struct sev_cpu_state s;
	int rc;

	if (!bsp || (in->vcpus > 1 && !ap)) {
		free(bsp);
		free(ap);
		return err_set(ENOMEM, "out of memory");
	}
	vmm_boot_cpu_state(entry, &s);
	s.sev_features = in->sev_features;
	sev_vmsa_encode(bsp, &s);
	rc = plan_own(p, bsp);
	if (ap) {
		vmm_ap_cpu_state(&s);
		s.sev_features = in->sev_features;
		sev_vmsa_encode(ap, &s);
		if (rc)
			free(ap);
		else
			rc = plan_own(p, ap);
	}
	for (unsigned i = 0; !rc && i < in->vcpus; i++) {
		struct plan_step st = { .gpa = SNP_VMSA_GPA, .len = PAGE, .kind = PLAN_VMSA, .vcpu = (int)i,
					.data = i ? ap : bsp };

		snprintf(st.label, sizeof(st.label), "VMSA vCPU %u", i);
		rc = plan_add(p, &st);
	}
	return rc;
}

int vmm_boot_plan(struct guest_mem *m, const struct boot_inputs *in, struct launch_plan *plan, uint64_t *entry)
{
	struct boot_layout l;
	int rc;

	*plan = (struct launch_plan){ 0 };
	rc = vmm_boot_load(m, in->kernel, in->kernel_len, in->kernel_path, in->initrd, in->initrd_len, in->cmdline,
			   BOOT_ACPI_GPA, &l);
	if (!rc)
		rc = vmm_boot_page_tables(m);
	if (!rc)
		rc = tables(m, in->vcpus);
	/* boot.c and the table builders wrote exactly these regions */
	if (!rc)
		rc = record(plan, m, 0, PAGE, PLAN_NORMAL, "GDT page");
	if (!rc)
		rc = record(plan, m, BOOT_ZERO_PAGE_GPA, PAGE, PLAN_NORMAL, "boot_params");
	if (!rc)
		rc = record(plan, m, BOOT_PML4_GPA, BOOT_PD_GPA + 4 * PAGE - BOOT_PML4_GPA, PLAN_NORMAL, "page tables");
	if (!rc)
		rc = record(plan, m, l.cmdline_gpa, l.cmdline_len, PLAN_NORMAL, "command line");
	if (!rc)
		rc = record(plan, m, BOOT_ACPI_GPA, BOOT_ACPI_SIZE, PLAN_NORMAL, "ACPI tables");
	if (!rc)
		rc = record(plan, m, BOOT_MPTABLE_GPA, BOOT_MPTABLE_SIZE, PLAN_NORMAL, "MP table");
	if (!rc)
		rc = record(plan, m, page_down(BOOT_RESET_VECTOR), PAGE, PLAN_NORMAL, "reset vector");
	if (!rc)
		rc = record(plan, m, l.kernel_gpa, l.kernel_end - l.kernel_gpa, PLAN_NORMAL, "kernel");
	if (!rc && l.initrd_size)
		rc = record(plan, m, l.initrd_gpa, l.initrd_size, PLAN_NORMAL, "initrd");
	if (!rc && in->snp) {
		/* Both pages are filled by the secure processor (secrets) or
		 * checked by it (CPUID); their contents are not measured. */
		rc = record(plan, m, BOOT_SECRETS_GPA, PAGE, PLAN_SECRETS, "SNP secrets");
		if (!rc)
			rc = record(plan, m, BOOT_CPUID_GPA, PAGE, PLAN_CPUID, "SNP CPUID");
		if (!rc)
			rc = vmsas(plan, in, l.entry_gpa);
	}
	if (!rc)
		rc = sort_and_check(plan);
	if (rc) {
		plan_free(plan);
		return rc;
	}
	*entry = l.entry_gpa;
	return 0;
}

/* VMCB segment attributes (APM vol. 2 §15.5.1): type | S | DPL | P | L | DB | G. */
#define SEG_CODE64 0xa9b /* execute/read accessed, S, P, L, G */
#define SEG_DATA   0xc93 /* read/write accessed, S, P, DB, G */
#define SEG_TSS64  0x08b /* busy 64-bit TSS, P */

/* What every vCPU starts with whatever its mode: the power-on values of
 * RFLAGS, DR6/DR7, PAT, XCR0, MXCSR and the x87 control word (SDM vol. 3A
 * table 9-1). */
static void reset_values(struct sev_cpu_state *s)
{
	memset(s, 0, sizeof(*s));
	s->rflags = 2;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->g_pat = 0x0007040600070406ull;
	s->xcr0 = 1;
	s->mxcsr = 0x1f80;
	s->x87_fcw = 0x37f;
}

void vmm_boot_cpu_state(uint64_t entry, struct sev_cpu_state *s)
{
	const struct sev_seg data = { 0x18, SEG_DATA, 0xffffffff, 0 };

	reset_values(s);
	s->cs = (struct sev_seg){ 0x10, SEG_CODE64, 0xffffffff, 0 };
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct sev_seg){ 0x20, SEG_TSS64, 0xfff, 0 };
	s->ldtr = (struct sev_seg){ 0, 0x82, 0xffff, 0 };
	s->gdtr = (struct sev_seg){ 0, 0, 5 * 8 - 1, BOOT_GDT_GPA };
	s->idtr = (struct sev_seg){ 0, 0, 0, 0 };
	s->cr0 = 0x80000011ull; /* PG | ET | PE */
	s->cr3 = BOOT_PML4_GPA;
	s->cr4 = 0x20;          /* PAE */
	s->efer = 0x500;        /* LME | LMA */
	s->rip = entry;
	s->rsi = BOOT_ZERO_PAGE_GPA;
	s->rsp = s->rbp = BOOT_ZERO_PAGE_GPA - 0x10;
}

void vmm_ap_cpu_state(struct sev_cpu_state *s)
{
	const struct sev_seg data = { 0, 0x93, 0xffff, 0 };

	reset_values(s);
	s->cs = (struct sev_seg){ 0xf000, 0x9b, 0xffff, 0xffff0000 };
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gdtr = s->idtr = (struct sev_seg){ 0, 0, 0xffff, 0 };
	s->ldtr = (struct sev_seg){ 0, 0x82, 0xffff, 0 };
	s->tr = (struct sev_seg){ 0, 0x8b, 0xffff, 0 };
	s->cr0 = 0x60000010ull; /* CD | NW | ET */
	s->rip = 0xfff0;
}
