/* measured_boot.h - TCG event logs (TPM PC Client, CCEL), replay, and the
 * host TPM 2.0 through tpm2-tss. */
#ifndef CVMM_MEASURED_BOOT_H
#define CVMM_MEASURED_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int mb_cli_eventlog(int argc, char **argv);
int mb_cli_tpm(int argc, char **argv);

#endif
