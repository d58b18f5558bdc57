/* Placeholder until the owning issue lands. */
#include <stdio.h>

#include "tdx/tdx.h"

int tdx_cli_measure(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "cvmm %s: not implemented yet\n", argv[0]);
	return 2;
}
