/* firmware_boot.c - `cvmm run --firmware FILE` on the kvm platform
 * (vmm/firmware_boot.h, docs/firmware.md): QEMU's -bios launch. The image
 * is copied into a page-aligned buffer and mapped read-only at the top of
 * 4 GiB (writes, such as OVMF's probe for a flash chip, exit to cvmm and
 * are dropped, so OVMF keeps its variables in RAM); the vCPUs start in
 * their reset state (the BSP at f000:fff0 = 0xfffffff0 in the image, the
 * APs waiting for INIT-SIPI). The launch plan has one step - the image -
 * built by the same function `cvmm measure` uses for QEMU's plan
 * (plan_add_firmware), and the mapping is made from that step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/firmware_boot.h"
#include "vmm/kvm_uapi.h"

#define FW_ROM_SLOT 2          /* after low (0) and high (1) RAM */
#define FW_ROM_MAX (16u << 20) /* must stay above the IOAPIC and LAPIC pages */

int vmm_firmware_read(const char *path, struct fw_boot **out)
{
	struct fw_boot *fb = calloc(1, sizeof(*fb));
	int rc;

	if (!fb)
		return err_set(ENOMEM, "out of memory");
	rc = fw_load(path, &fb->img);
	/* an OVMF/TDVF build ends with the footer GUID table next to its reset vector */
	if (!rc && fw_table_check(&fb->img)) {
		char why[256];
		snprintf(why, sizeof(why), "%s", err_msg());
		rc = err_set(EINVAL, "--firmware: %s", why);
	}
	if (!rc && fb->img.size > FW_ROM_MAX)
		rc = err_set(EFBIG, "--firmware %s: %zu bytes; at most %u MiB fit below 4 GiB above the APICs", path,
			     fb->img.size, FW_ROM_MAX >> 20);
	if (!rc) {
		fb->rom_len = fb->img.size;
		fb->rom = mmap(NULL, fb->rom_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fb->rom == MAP_FAILED) {
			fb->rom = NULL;
			rc = err_set(errno, "--firmware: mmap: %s", strerror(errno));
		}
	}
	if (rc) {
		vmm_firmware_free(fb);
		return rc;
	}
	*out = fb;
	return 0;
}

void vmm_firmware_free(struct fw_boot *fb)
{
	if (!fb)
		return;
	if (fb->cfg.mem)
		fw_cfg_destroy(&fb->cfg);
	if (fb->rom)
		munmap(fb->rom, fb->rom_len);
	fw_free(&fb->img);
	free(fb);
}

int vmm_firmware_plan(const struct fw_boot *fb, struct launch_plan *plan)
{
	*plan = (struct launch_plan){ 0 };
	return plan_add_firmware(plan, &fb->img);
}

/* CVMM_DEBUG_FIRMWARE=1: QEMU's isa-debugcon at 0x402, where OVMF's debug
 * builds write their log (they probe for it: a read gives 0xe9); the bytes
 * go to stderr. Without it the port is absent, as in a plain QEMU. */
#define FW_DEBUG_PORT 0x402
static void debugcon_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	(void)opaque;
	(void)port;
	if (!is_write) {
		memset(data, 0, len);
		data[0] = 0xe9;
	} else if (write(STDERR_FILENO, data, len) < 0) {
		/* a debug log that cannot be written is lost, never the guest */
	}
}

int vmm_firmware_devices(struct vm *vm)
{
	struct fw_boot *fb = vm->fw;
	int rc = fw_cfg_init(&fb->cfg, &vm->mem);

	rtc_init(&fb->rtc, &vm->mem);
	if (!rc)
		rc = piix_init(&fb->piix, &vm->pci);
	if (!rc)
		rc = vm_pio_register(vm, FW_CFG_PORT_SEL, 2, fw_cfg_io, &fb->cfg);
	if (!rc)
		rc = vm_pio_register(vm, FW_CFG_PORT_DMA, 8, fw_cfg_io, &fb->cfg);
	if (!rc)
		rc = vm_pio_register(vm, 0x70, 2, rtc_io, &fb->rtc);
	if (!rc)
		rc = vm_pio_register(vm, PIIX_PM_BASE, PIIX_PM_LEN, piix_pm_io, &fb->piix);
	if (!rc && getenv("CVMM_DEBUG_FIRMWARE")) {
		fb->cfg.debug_fd = STDERR_FILENO;
		rc = vm_pio_register(vm, FW_DEBUG_PORT, 1, debugcon_io, NULL);
	}
	return rc;
}

int vmm_firmware_rom_fill(struct fw_boot *fb, struct launch_plan *plan)
{
	uint64_t base = (1ull << 32) - fb->rom_len;

	for (size_t i = 0; i < plan->n; i++) {
		struct plan_step *s = &plan->steps[i];

		if (s->kind != PLAN_NORMAL || !s->data || s->gpa < base || !range_ok(s->gpa - base, s->len, fb->rom_len))
			return err_set(EINVAL, "firmware plan step %s at %#llx is not inside the image", s->label,
				       (unsigned long long)s->gpa);
		memcpy(fb->rom + (s->gpa - base), s->data, s->len);
		s->data = fb->rom + (s->gpa - base); /* the plan now points at what the guest sees */
	}
	return 0;
}

/* Replay the plan into the ROM copy and map it read-only at the top of 4 GiB. */
static int map_plan(struct vm *vm, struct fw_boot *fb)
{
	struct kvm_userspace_memory_region r = {
		.slot = FW_ROM_SLOT, .flags = KVM_MEM_READONLY, .guest_phys_addr = (1ull << 32) - fb->rom_len,
		.memory_size = fb->rom_len, .userspace_addr = (uintptr_t)fb->rom,
	};
	int rc = vmm_firmware_rom_fill(fb, &vm->plan);

	if (rc)
		return rc;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return err_set(ENOTSUP, "--firmware: KVM has no read-only memory slots (KVM_CAP_READONLY_MEM)");
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return err_set(errno, "KVM_SET_USER_MEMORY_REGION (firmware): %s", strerror(errno));
	mprotect(fb->rom, fb->rom_len, PROT_READ);
	return 0;
}

int vmm_firmware_load(struct vm *vm, const struct fw_cfg_boot *b)
{
	struct fw_boot *fb = vm->fw;
	int rc = vmm_firmware_plan(fb, &vm->plan);

	if (!rc)
		rc = map_plan(vm, fb);
	if (!rc)
		fw_free(&fb->img); /* the plan points at the mapped copy now */
	if (!rc)
		rc = fw_cfg_boot_items(&fb->cfg, &vm->mem, b);
	return rc;
}
