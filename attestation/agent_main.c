/* cvmm-agent - runs inside the guest and fetches evidence. Placeholder. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: cvmm-agent COMMAND\n");
		return 0;
	}
	fprintf(stderr, "cvmm-agent: no command given (try --help)\n");
	return 2;
}
