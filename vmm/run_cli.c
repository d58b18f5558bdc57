/* Placeholder until the owning issue lands. */
#include <stdio.h>

#include "vmm/vmm.h"

int vmm_cli_run(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "cvmm %s: not implemented yet\n", argv[0]);
	return 2;
}
