/* api_vmconfig.c - Cloud Hypervisor's VmConfig (components/schemas/VmConfig
 * of its OpenAPI document, tests/fixtures/api/) applied to the struct
 * vm_config that `cvmm run` fills from its flags, and back. Every field of
 * the schema is listed here with what cvmm does with it: used, accepted at
 * its default only, accepted and ignored (documented in docs/api.md), or
 * not supported; a field the schema does not have is an error. JSON null
 * and empty arrays count as absent, as Cloud Hypervisor's optional fields. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "vmm/api.h"
#include "vmm/vmm_core.h"

enum use {
	USE,       /* read by the code below */
	FALSE_ONLY, /* boolean accepted when false (the schema's default) */
	TRUE_ONLY, /* boolean accepted when true (the schema's default) */
	IGNORED,   /* accepted, no effect (docs/api.md says why) */
	NO,        /* not supported */
};
struct field {
	const char *name;
	enum use use;
};

static const struct field vmconfig_fields[] = {
	{ "cpus", USE }, { "memory", USE }, { "payload", USE }, { "disks", USE }, { "net", USE },
	{ "rng", USE }, { "serial", USE }, { "console", USE }, { "vsock", USE }, { "platform", USE },
	{ "iommu", FALSE_ONLY }, { "watchdog", FALSE_ONLY }, { "pvpanic", FALSE_ONLY },
	{ "landlock_enable", FALSE_ONLY }, { "rate_limit_groups", NO }, { "balloon", NO }, { "fs", NO },
	{ "generic_vhost_user", NO }, { "pmem", NO }, { "debug_console", NO }, { "devices", NO },
	{ "user_devices", NO }, { "vdpa", NO }, { "numa", NO }, { "rtc", NO }, { "pci_segments", NO },
	{ "tpm", NO }, { "landlock_rules", NO }, { NULL, NO },
};
static const struct field payload_fields[] = {
	{ "kernel", USE }, { "cmdline", USE }, { "initramfs", USE }, { "firmware", USE }, { "igvm", NO },
	{ "host_data", NO }, { NULL, NO },
};
static const struct field cpus_fields[] = {
	{ "boot_vcpus", USE }, { "max_vcpus", USE }, { "kvm_hyperv", FALSE_ONLY }, { "max_phys_bits", IGNORED },
	{ "nested", IGNORED }, { "core_scheduling", IGNORED }, { "topology", NO }, { "affinity", NO },
	{ "features", NO }, { NULL, NO },
};
static const struct field memory_fields[] = {
	{ "size", USE }, { "mergeable", FALSE_ONLY }, { "shared", FALSE_ONLY }, { "hugepages", FALSE_ONLY },
	{ "prefault", FALSE_ONLY }, { "reserve", FALSE_ONLY }, { "thp", IGNORED }, { "hotplug_method", IGNORED },
	{ "hotplug_size", NO }, { "hotplugged_size", NO }, { "hugepage_size", NO }, { "zones", NO }, { NULL, NO },
};
static const struct field disk_fields[] = {
	{ "path", USE }, { "readonly", USE }, { "image_type", USE }, { "direct", FALSE_ONLY },
	{ "iommu", FALSE_ONLY }, { "vhost_user", FALSE_ONLY }, { "backing_files", FALSE_ONLY },
	{ "num_queues", IGNORED }, { "queue_size", IGNORED }, { "id", IGNORED }, { "pci_segment", IGNORED },
	{ "sparse", IGNORED }, { "lock_granularity", IGNORED }, { "vhost_socket", NO },
	{ "rate_limiter_config", NO }, { "pci_device_id", NO }, { "serial", NO }, { "rate_limit_group", NO },
	{ "queue_affinity", NO }, { NULL, NO },
};
static const struct field net_fields[] = {
	{ "tap", USE }, { "mac", USE }, { "iommu", FALSE_ONLY }, { "vhost_user", FALSE_ONLY }, { "ip", IGNORED },
	{ "mask", IGNORED }, { "num_queues", IGNORED }, { "queue_size", IGNORED }, { "vhost_mode", IGNORED },
	{ "id", IGNORED }, { "pci_segment", IGNORED }, { "offload_tso", IGNORED }, { "offload_ufo", IGNORED },
	{ "offload_csum", IGNORED }, { "host_mac", NO }, { "mtu", NO }, { "vhost_socket", NO },
	{ "pci_device_id", NO }, { "rate_limiter_config", NO }, { NULL, NO },
};
static const struct field rng_fields[] = {
	{ "src", USE }, { "iommu", FALSE_ONLY }, { "id", IGNORED }, { "pci_segment", IGNORED },
	{ "pci_device_id", NO }, { NULL, NO },
};
static const struct field console_fields[] = {
	{ "mode", USE }, { "iommu", FALSE_ONLY }, { "id", IGNORED }, { "pci_segment", IGNORED }, { "file", NO },
	{ "socket", NO }, { "pci_device_id", NO }, { NULL, NO },
};
static const struct field vsock_fields[] = {
	{ "cid", USE }, { "socket", IGNORED }, { "iommu", FALSE_ONLY }, { "id", IGNORED },
	{ "pci_segment", IGNORED }, { "pci_device_id", NO }, { NULL, NO },
};
static const struct field platform_fields[] = {
	{ "sev_snp", USE }, { "tdx", USE }, { "num_pci_segments", USE }, { "iommufd", FALSE_ONLY },
	{ "vfio_p2p_dma", IGNORED }, { "iommu_segments", NO }, { "iommu_address_width_bits", NO },
	{ "system_serial_number", NO }, { "serial_number", NO }, { "system_uuid", NO }, { "uuid", NO },
	{ "oem_strings", NO }, { "system_manufacturer", NO }, { "system_product_name", NO },
	{ "system_version", NO }, { "system_family", NO }, { "system_sku_number", NO },
	{ "chassis_asset_tag", NO }, { NULL, NO },
};

static bool absent(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0);
}

/* Every member of obj is a field of the table and allowed as it is. */
static int check_fields(const json_t *obj, const char *path, const struct field *t)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return err_set(EINVAL, "%s: expected an object", path);
	json_object_foreach((json_t *)obj, k, v) {
		const struct field *f = t;
		while (f->name && strcmp(f->name, k))
			f++;
		if (!f->name)
			return err_set(EINVAL, "%s.%s: unknown field (not in Cloud Hypervisor's VmConfig)", path, k);
		if (absent(v) || f->use == USE || f->use == IGNORED)
			continue;
		if (f->use == NO)
			return err_set(EINVAL, "%s.%s: not supported by cvmm (docs/api.md)", path, k);
		if (!json_is_boolean(v))
			return err_set(EINVAL, "%s.%s: expected a boolean", path, k);
		if (json_is_true(v) != (f->use == TRUE_ONLY))
			return err_set(EINVAL, "%s.%s: only %s is supported by cvmm", path, k,
				       f->use == TRUE_ONLY ? "true" : "false");
	}
	return 0;
}

static int get_string(const json_t *obj, const char *path, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);

	if (absent(v)) {
		if (required)
			return err_set(EINVAL, "%s.%s: required", path, key);
		return 0;
	}
	if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) != json_string_length(v))
		return err_set(EINVAL, "%s.%s: expected a non-empty string", path, key);
	*out = json_string_value(v);
	return 0;
}

static int get_int(const json_t *obj, const char *path, const char *key, json_int_t min, json_int_t max,
		   bool required, json_int_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (absent(v)) {
		if (required)
			return err_set(EINVAL, "%s.%s: required", path, key);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return err_set(EINVAL, "%s.%s: expected an integer from %lld to %lld", path, key, (long long)min,
			       (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int apply_payload(const json_t *p, struct vm_config *c)
{
	int rc = check_fields(p, "payload", payload_fields);

	if (!rc)
		rc = get_string(p, "payload", "kernel", true, &c->kernel);
	if (!rc)
		rc = get_string(p, "payload", "initramfs", false, &c->initrd);
	if (!rc)
		rc = get_string(p, "payload", "cmdline", false, &c->cmdline);
	if (!rc)
		rc = get_string(p, "payload", "firmware", false, &c->firmware);
	return rc;
}

static int apply_cpus_memory(const json_t *j, struct vm_config *c)
{
	const json_t *cpus = json_object_get(j, "cpus"), *mem = json_object_get(j, "memory");
	json_int_t boot = c->vcpus, max = 0, size = (json_int_t)c->mem;
	int rc = 0;

	if (!absent(cpus)) {
		if (!(rc = check_fields(cpus, "cpus", cpus_fields)) &&
		    !(rc = get_int(cpus, "cpus", "boot_vcpus", 1, VM_MAX_VCPUS, true, &boot)) &&
		    !(rc = get_int(cpus, "cpus", "max_vcpus", 1, VM_MAX_VCPUS, true, &max)) && max != boot)
			rc = err_set(EINVAL, "cpus.max_vcpus: %lld: cvmm has no vCPU hotplug, give boot_vcpus (%lld)",
				     (long long)max, (long long)boot);
	}
	if (!rc && !absent(mem) && !(rc = check_fields(mem, "memory", memory_fields)))
		rc = get_int(mem, "memory", "size", 32ll << 20, 1ll << 40, true, &size);
	c->vcpus = (unsigned)boot;
	c->mem = (uint64_t)size;
	return rc;
}

static int apply_disks(const json_t *disks, struct vm_config *c)
{
	size_t i;
	json_t *d;
	char path[32];

	if (absent(disks))
		return 0;
	if (!json_is_array(disks))
		return err_set(EINVAL, "disks: expected an array");
	if (json_array_size(disks) > VMM_MAX_DISKS)
		return err_set(EINVAL, "disks: at most %d disks", VMM_MAX_DISKS);
	json_array_foreach(disks, i, d) {
		const char *type = NULL;
		json_t *ro = json_object_get(d, "readonly");
		int rc;

		snprintf(path, sizeof(path), "disks[%zu]", i);
		if ((rc = check_fields(d, path, disk_fields)) ||
		    (rc = get_string(d, path, "path", true, &c->disk[c->ndisks].path)) ||
		    (rc = get_string(d, path, "image_type", false, &type)))
			return rc;
		if (type && strcmp(type, "Raw") && strcmp(type, "Unknown"))
			return err_set(EINVAL, "%s.image_type: %s: cvmm serves raw images only", path, type);
		if (!absent(ro) && !json_is_boolean(ro))
			return err_set(EINVAL, "%s.readonly: expected a boolean", path);
		c->disk[c->ndisks++].ro = json_is_true(ro);
	}
	return 0;
}

static int apply_net(const json_t *net, struct vm_config *c)
{
	const char *mac = NULL;
	const json_t *n;
	int rc;

	if (absent(net))
		return 0;
	if (!json_is_array(net))
		return err_set(EINVAL, "net: expected an array");
	if (json_array_size(net) > 1)
		return err_set(EINVAL, "net: cvmm offers one network device");
	n = json_array_get(net, 0);
	if ((rc = check_fields(n, "net[0]", net_fields)) || (rc = get_string(n, "net[0]", "tap", false, &c->net_tap)) ||
	    (rc = get_string(n, "net[0]", "mac", false, &mac)))
		return rc;
	if (!c->net_tap)
		return err_set(EINVAL, "net[0].tap: required (cvmm does not create taps from ip/mask, nor take tap fds)");
	if (mac) {
		if ((rc = api_parse_mac(mac, c->net_mac, "net[0].mac: ")))
			return rc;
		c->net_mac_set = true;
	}
	return 0;
}

int api_parse_mac(const char *s, uint8_t mac[6], const char *what)
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return err_set(EINVAL, "%s%s: expected XX:XX:XX:XX:XX:XX", what, s);
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return err_set(EINVAL, "%s%s: byte out of range", what, s);
		mac[i] = (uint8_t)v[i];
	}
	if (mac[0] & 1)
		return err_set(EINVAL, "%s%s is a multicast address", what, s);
	return 0;
}

/* serial/console modes: cvmm has one console on its stdin/stdout */
static int console_mode(const json_t *j, const char *key, bool *tty)
{
	const json_t *o = json_object_get(j, key);
	const char *mode = NULL;
	int rc;

	*tty = !strcmp(key, "console"); /* Cloud Hypervisor's defaults: console Tty, serial Null */
	if (absent(o))
		return 0;
	if ((rc = check_fields(o, key, console_fields)) || (rc = get_string(o, key, "mode", true, &mode)))
		return rc;
	if (!strcmp(mode, "Tty"))
		*tty = true;
	else if (!strcmp(mode, "Off") || !strcmp(mode, "Null"))
		*tty = false;
	else
		return err_set(EINVAL, "%s.mode: %s: not supported by cvmm (Tty, Off or Null)", key, mode);
	return 0;
}

static int apply_devices(const json_t *j, struct vm_config *c)
{
	const json_t *rng = json_object_get(j, "rng"), *vsock = json_object_get(j, "vsock");
	bool serial_tty, console_tty;
	int rc;

	if ((rc = apply_disks(json_object_get(j, "disks"), c)) || (rc = apply_net(json_object_get(j, "net"), c)))
		return rc;
	if (!absent(rng)) {
		const char *src = NULL;
		if ((rc = check_fields(rng, "rng", rng_fields)) || (rc = get_string(rng, "rng", "src", true, &src)))
			return rc;
		if (strcmp(src, "/dev/urandom") && strcmp(src, "/dev/random"))
			return err_set(EINVAL, "rng.src: %s: cvmm feeds virtio-rng from getrandom(2) (/dev/urandom)", src);
		c->rng = true;
	}
	if ((rc = console_mode(j, "serial", &serial_tty)) || (rc = console_mode(j, "console", &console_tty)))
		return rc;
	c->console_virtio = console_tty;
	c->debug_console = console_tty && serial_tty;
	if (!absent(vsock)) {
		json_int_t cid = 0;
		if ((rc = check_fields(vsock, "vsock", vsock_fields)) ||
		    (rc = get_int(vsock, "vsock", "cid", 3, UINT32_MAX - 1, true, &cid)))
			return rc;
		c->vsock_cid = (uint64_t)cid;
	}
	return 0;
}

static int apply_platform(const json_t *p, struct vm_config *c)
{
	json_int_t segs = 1;
	int rc;

	if (absent(p))
		return 0;
	if ((rc = check_fields(p, "platform", platform_fields)) ||
	    (rc = get_int(p, "platform", "num_pci_segments", 1, 1, false, &segs)))
		return rc;
	for (int i = 0; i < 2; i++) {
		const char *k = i ? "tdx" : "sev_snp";
		const json_t *v = json_object_get(p, k);
		if (!absent(v) && !json_is_boolean(v))
			return err_set(EINVAL, "platform.%s: expected a boolean", k);
	}
	bool snp = json_is_true(json_object_get(p, "sev_snp")), tdx = json_is_true(json_object_get(p, "tdx"));
	if (snp && tdx)
		return err_set(EINVAL, "platform: sev_snp and tdx together");
	/* the hardware backends have no run loop yet (docs/platforms.md):
	 * the attested launch runs on their sim platforms */
	if (snp)
		c->platform = "sim-snp";
	else if (tdx)
		c->platform = "sim-tdx";
	return 0;
}

int api_vmconfig_apply(json_t *j, struct vm_config *c)
{
	int rc;

	if (!json_is_object(j))
		return err_set(EINVAL, "VmConfig: expected a JSON object");
	if ((rc = check_fields(j, "VmConfig", vmconfig_fields)))
		return rc;
	if (absent(json_object_get(j, "payload")))
		return err_set(EINVAL, "payload: required");
	c->ndisks = 0;
	c->net_tap = NULL;
	c->net_mac_set = false;
	c->rng = false;
	c->vsock_cid = 0;
	c->initrd = c->cmdline = c->firmware = NULL;
	if ((rc = apply_payload(json_object_get(j, "payload"), c)) || (rc = apply_cpus_memory(j, c)) ||
	    (rc = apply_devices(j, c)) || (rc = apply_platform(json_object_get(j, "platform"), c)))
		return rc;
	/* as cvmm run --firmware (docs/firmware.md) */
	if (c->firmware && strcmp(c->platform, "kvm") && strcmp(c->platform, "auto"))
		return err_set(EINVAL, "payload.firmware: firmware boot is for the kvm platform, not %s", c->platform);
	return 0;
}

json_t *api_vmconfig_from_run(const struct vm_config *c)
{
	char mac[18];
	json_t *disks = json_array(), *net = json_array();
	json_t *payload = json_pack("{s:s,s:s}", "kernel", c->kernel ? c->kernel : "", "cmdline",
				    c->cmdline ? c->cmdline : vmm_default_cmdline(c->console_virtio));

	if (payload && c->initrd)
		json_object_set_new(payload, "initramfs", json_string(c->initrd));
	if (payload && c->firmware)
		json_object_set_new(payload, "firmware", json_string(c->firmware));
	for (unsigned i = 0; disks && i < c->ndisks; i++)
		json_array_append_new(disks, json_pack("{s:s,s:b}", "path", c->disk[i].path, "readonly", c->disk[i].ro));
	if (net && c->net_tap) {
		json_t *n = json_pack("{s:s}", "tap", c->net_tap);
		if (n && c->net_mac_set) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", c->net_mac[0], c->net_mac[1],
				 c->net_mac[2], c->net_mac[3], c->net_mac[4], c->net_mac[5]);
			json_object_set_new(n, "mac", json_string(mac));
		}
		json_array_append_new(net, n);
	}
	bool serial = !c->console_virtio || c->debug_console;
	json_t *j = json_pack("{s:{s:i,s:i},s:{s:I},s:o,s:o,s:o,s:{s:s},s:{s:s},s:{s:b,s:b}}", "cpus", "boot_vcpus",
			      (int)c->vcpus, "max_vcpus", (int)c->vcpus, "memory", "size", (json_int_t)c->mem, "payload",
			      payload, "disks", disks, "net", net, "serial", "mode", serial ? "Tty" : "Off", "console",
			      "mode", c->console_virtio ? "Tty" : "Off", "platform", "sev_snp",
			      !strcmp(c->platform, "sim-snp"), "tdx", !strcmp(c->platform, "sim-tdx"));
	if (j && c->rng)
		json_object_set_new(j, "rng", json_pack("{s:s}", "src", "/dev/urandom"));
	if (j && c->vsock_cid)
		json_object_set_new(j, "vsock", json_pack("{s:I,s:s}", "cid", (json_int_t)c->vsock_cid, "socket",
							  "/dev/vhost-vsock"));
	return j;
}

int api_vmconfig_load(const char *path, struct vm_config *c, json_t **owner)
{
	json_error_t e;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);

	*owner = NULL;
	if (!j)
		return err_set(EINVAL, "%s:%d: %s", path, e.line, e.text);
	int rc = api_vmconfig_apply(j, c);
	if (rc) {
		char why[256];
		snprintf(why, sizeof(why), "%s", err_msg());
		json_decref(j);
		return err_set(-rc, "%s: %s", path, why);
	}
	*owner = j;
	return 0;
}
