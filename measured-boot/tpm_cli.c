/* Placeholder until the owning issue lands. */
#include <stdio.h>

#include "measured-boot/measured_boot.h"

int mb_cli_tpm(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "cvmm %s: not implemented yet\n", argv[0]);
	return 2;
}
