/* api.h - internal to vmm/: the control API on a Unix socket, the VM
 * lifecycle subset of Cloud Hypervisor's REST API (docs/api.md).
 *
 *   api_vmconfig.c  Cloud Hypervisor's VmConfig (JSON) <-> struct vm_config
 *   api_request.c   route + method + body of one request -> struct api_request
 *   api_vmm.c       the controller: VM state, the control thread that
 *                   boots/pauses/stops the VM (vmm_run in a runner thread)
 *   api_server.c    HTTP/1.1 on the socket (libmicrohttpd), peer checks
 *   api_cli.c       cvmm serve, cvmm ctl, cvmm config check */
#ifndef CVMM_VMM_API_H
#define CVMM_VMM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct vm;
struct vm_config;

/* ---------------- VmConfig (api_vmconfig.c) ----------------
 * Apply a VmConfig object to c (which holds the defaults and the VMM-wide
 * options of cvmm serve/run): payload kernel/cmdline/initramfs, cpus,
 * memory, disks, net, rng, serial/console, vsock, platform.sev_snp/tdx.
 * c's strings point into j afterwards: keep j while c is used. Unknown
 * fields and fields cvmm does not support (at other than their default)
 * fail with -EINVAL and a message naming the field. */
int api_vmconfig_apply(json_t *j, struct vm_config *c);
/* A unicast MAC "XX:XX:XX:XX:XX:XX" (cvmm run --net mac=, net[].mac);
 * what prefixes the error ("--net: mac="). */
int api_parse_mac(const char *s, uint8_t mac[6], const char *what);
/* The VmConfig describing c (cvmm run --api-socket with flags; vm.info). */
json_t *api_vmconfig_from_run(const struct vm_config *c);
/* Read and apply a VmConfig file (cvmm run --config, cvmm config check):
 * *owner receives the JSON to keep. */
int api_vmconfig_load(const char *path, struct vm_config *c, json_t **owner);

/* ---------------- one request (api_request.c) ---------------- */
enum api_op {
	API_VMM_PING, API_VMM_SHUTDOWN, API_VM_CREATE, API_VM_DELETE, API_VM_BOOT, API_VM_SHUTDOWN,
	API_VM_REBOOT, API_VM_POWER_BUTTON, API_VM_PAUSE, API_VM_RESUME, API_VM_INFO, API_VM_COUNTERS,
	API_VM_ATTESTATION,
};
#define API_BODY_MAX (64u * 1024) /* larger bodies: 413 */
struct api_request {
	enum api_op op;
	json_t *body;        /* vm.create: the VmConfig as parsed */
	int status;          /* when parsing failed: the HTTP status */
	char msg[256];       /* and why */
};
/* Route "/api/v1/<name>" with method ("GET", "PUT") and body (len bytes,
 * not NUL-terminated). 0 with rq->op (and rq->body for vm.create), or -1
 * with rq->status and rq->msg as Cloud Hypervisor answers: 404 unknown
 * path, 400 wrong method or bad JSON, 500 an endpoint cvmm does not offer.
 * vm.create's body is checked against the VmConfig rules here too (400).
 * Pure: no I/O (fuzzed by tests/fuzz/fuzz_api_request.c). */
int api_request_parse(const char *method, const char *url, const char *body, size_t len, struct api_request *rq);
void api_request_clear(struct api_request *rq);
const char *api_op_name(enum api_op op);

/* ---------------- the controller (api_vmm.c) ---------------- */
struct api_vmm;
struct api_reply {
	int status;     /* 200, 204, 4xx, 5xx */
	json_t *body;   /* NULL for 204; errors: ["message"] as Cloud Hypervisor */
};
/* base: defaults and VMM-wide options for every VM the API creates
 * (seccomp, attestation endpoint, state dir); copied. */
struct api_vmm *api_vmm_create(const struct vm_config *base);
void api_vmm_destroy(struct api_vmm *a);
/* Create the VM from an applied config (cvmm run --api-socket/--config):
 * takes the JSON (may be NULL: built from c). */
int api_vmm_preset(struct api_vmm *a, const struct vm_config *c, json_t *vmconfig);
/* Run one request (from an API thread) and fill rep. */
void api_vmm_execute(struct api_vmm *a, struct api_request *rq, struct api_reply *rep);
/* The control thread: boot now (if preset), then serve commands until
 * vmm.shutdown, SIGTERM/SIGINT, or (exit_with_vm) the VM's end. Returns
 * the exit status (the VM's, VMM_EXIT_*). */
int api_vmm_loop(struct api_vmm *a, bool boot_now, bool exit_with_vm);
/* vm.c: the guest runs / has ended (called by the runner thread). */
void api_vmm_attach(struct api_vmm *a, struct vm *vm);
void api_vmm_detach(struct api_vmm *a, struct vm *vm);

/* ---------------- the HTTP server (api_server.c) ---------------- */
struct api_server;
/* Bind path (mode 0600, or 0660 with group), then serve it from threads
 * under the api seccomp role. Connections from other uids (SO_PEERCRED)
 * than ours, or gid with a group, get 403. */
int api_server_start(const char *path, const char *group, struct api_vmm *a, struct api_server **out);
/* Wait (bounded) for replies in flight, stop, remove the socket. */
void api_server_stop(struct api_server *s);

/* ---------------- the commands (api_cli.c) ---------------- */
/* Serve the API on socket_path with base's VMM-wide options; with preset
 * (cvmm run --api-socket) that VM is booted at once and cvmm ends with it.
 * Takes preset_json. Returns the exit status (VMM_EXIT_*). */
int vmm_api_run(const struct vm_config *base, const struct vm_config *preset, json_t *preset_json,
		const char *socket_path, const char *group);
/* cvmm config check: load path into c and check its files. */
int vmm_config_check(const char *path, struct vm_config *c, json_t **owner);

/* ---------------- systemd (api_vmm.c) ---------------- */
/* sd_notify(3) when run by systemd (NOTIFY_SOCKET set); otherwise nothing. */
void api_notify(const char *state);

#endif
