/* sim_internal.h - internal to tdx/sim_*.c: the state of the sim-tdx
 * software TDX module and quoting enclave (tdx.h "sim-tdx") shared by the
 * key store (sim_keys.c), quote signing and RTMRs (sim_quote.c) and the
 * channel server (sim_channel.c). */
#ifndef CVMM_TDX_SIM_INTERNAL_H
#define CVMM_TDX_SIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/common.h"
#include "tdx/tdx.h"

/* The simulated platform's TCB, written into the PCK certificate's SGX
 * extensions (Intel SGX PCK Certificate and CRL Profile, "TCB"): 16 SGX TCB
 * component SVNs, PCESVN, and CPUSVN (= the components, as Intel issues
 * them). The FMSPC is a Sapphire Rapids one (00806F050000); PCE-ID 0. */
#define TDX_SIM_PCESVN 13
#define TDX_SIM_FMSPC  "00806F050000"
#define TDX_SIM_PCEID  "0000"
extern const uint8_t tdx_sim_comp_svn[16];
/* TEE_TCB_SVN of the TD quote body: the simulated TDX module's SVNs. */
extern const uint8_t tdx_sim_tee_tcb_svn[16];
/* The simulated QE: ISVSVN, ISVPRODID (2 = TDX QE), and the QE vendor ID
 * of the quote header (Intel's 939A7233-F79C-4CA9-940A-0DB3957F0607). */
#define TDX_SIM_QE_ISVSVN    8
#define TDX_SIM_QE_ISVPRODID 2
#define TDX_SIM_QE_AUTH_LEN  32

struct tdx_sim {
	pthread_mutex_t lock;
	char *dir;
	EVP_PKEY *pck_key;   /* signs QE reports */
	EVP_PKEY *ak;        /* the attestation key: signs quotes */
	uint8_t ak_xy[64];   /* its public point, x||y big-endian */
	X509 *root, *pck_ca, *pck;
	char *chain_pem;     /* PCK, PCK CA, root: the quote's certification data type 5 */
	size_t chain_pem_len;
	/* the TD */
	bool launched;
	uint8_t mrtd[TDX_MR_SIZE], mrconfigid[TDX_MR_SIZE];
	uint8_t rtmr[4][TDX_MR_SIZE];
	struct bytebuf ccel;  /* CCEL-format event log of the RTMR extensions */
};

/* Raw ECDSA P-256 over SHA-256: r||s big-endian (32 bytes each). */
int tdx_sim_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t rs[64]);

#endif
