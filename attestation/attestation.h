/* attestation.h - evidence formats (SNP report, TDX quote), certificate
 * chains, policy, `cvmm verify`/`show`/`fetch-certs`, the endpoint. */
#ifndef CVMM_ATTESTATION_H
#define CVMM_ATTESTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int att_cli_verify(int argc, char **argv);
int att_cli_show(int argc, char **argv);
int att_cli_fetch_certs(int argc, char **argv);

#endif
