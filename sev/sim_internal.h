/* sim_internal.h - internal to sev/sim_*.c: the state of the sim-snp
 * software secure processor (sev.h "sim-snp") shared by the key store
 * (sim_keys.c), report signing (sim_report.c) and the channel server
 * (sim_channel.c). */
#ifndef CVMM_SEV_SIM_INTERNAL_H
#define CVMM_SEV_SIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sev/sev.h"

/* The simulated product: an AMD EPYC Milan B0 (CPUID family 19h, model 01h,
 * stepping 1); the certificate CNs and productName say the same. */
#define SIM_PRODUCT_NAME "Milan-B0"
#define SIM_CPUID_FAMILY 0x19
#define SIM_CPUID_MODEL  0x01
#define SIM_CPUID_STEP   0x01

/* The TCB the store is created with (Milan TCB_VERSION layout, SNP ABI
 * Table 3: byte 0 BOOT_LOADER, 1 TEE, 6 SNP, 7 MICROCODE); written into the
 * VCEK's SPL extensions and read back from them on every open. */
#define SIM_SPL_BOOTLOADER 3
#define SIM_SPL_TEE        0
#define SIM_SPL_SNP        8
#define SIM_SPL_MICROCODE  115

struct snp_sim {
	pthread_mutex_t lock;
	char *dir;
	EVP_PKEY *vcek_key;          /* signs reports */
	X509 *ark, *ask, *vcek;
	uint8_t *ark_der, *ask_der, *vcek_der;
	size_t ark_der_len, ask_der_len, vcek_der_len;
	uint8_t chip_id[64];         /* = the VCEK's hwID */
	uint64_t tcb;                /* = the VCEK's SPLs, as a TCB_VERSION */
	bool launched;
	struct snp_sim_launch launch;
	uint8_t report_id[32];
};

#endif
