/* The launch plan: an ordered list of measured steps (design.md). */
#include <errno.h>
#include <stdlib.h>

#include "common/common.h"
#include "firmware.h"

static const char *const kind_names[PLAN_KIND_COUNT] = {
	[PLAN_NORMAL] = "normal",     [PLAN_ZERO] = "zero",
	[PLAN_UNMEASURED] = "unmeasured", [PLAN_SECRETS] = "secrets",
	[PLAN_CPUID] = "cpuid",       [PLAN_VMSA] = "vmsa",
	[PLAN_KERNEL_HASHES] = "kernel-hashes", [PLAN_TD_HOB] = "td-hob",
	[PLAN_TEMP_MEM] = "temp-mem", [PLAN_PERM_MEM] = "perm-mem",
	[PLAN_PAYLOAD] = "payload",
};

const char *plan_kind_name(enum plan_kind k)
{
	return (unsigned)k < PLAN_KIND_COUNT ? kind_names[k] : "?";
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return err_set(ENOMEM, "launch plan: out of memory");
	*arr = p;
	*cap = ncap;
	return 0;
}

int plan_add(struct launch_plan *p, const struct plan_step *s)
{
	int ret = grow((void **)&p->steps, &p->cap, p->n + 1, sizeof(*s));

	if (ret)
		return ret;
	p->steps[p->n++] = *s;
	return 0;
}

int plan_own(struct launch_plan *p, void *buf)
{
	int ret = grow((void **)&p->owned, &p->cap_owned, p->n_owned + 1, sizeof(void *));

	if (ret) {
		free(buf);
		return ret;
	}
	p->owned[p->n_owned++] = buf;
	return 0;
}

void plan_free(struct launch_plan *p)
{
	for (size_t i = 0; i < p->n_owned; i++)
		free(p->owned[i]);
	free(p->owned);
	free(p->steps);
	*p = (struct launch_plan){0};
}

int plan_add_firmware(struct launch_plan *p, const struct fw_image *fw)
{
	struct plan_step s = { .gpa = fw->base_gpa, .len = fw->size, .kind = PLAN_NORMAL, .data = fw->data,
			       .vcpu = -1, .label = "firmware" };

	return plan_add(p, &s);
}
