/* Placeholder until the owning issue lands. */
#include <stdio.h>

#include "attestation/attestation.h"

int att_cli_verify(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "cvmm %s: not implemented yet\n", argv[0]);
	return 2;
}
