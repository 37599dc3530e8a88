/* Placeholder until the daemon lands. */
#include <stdio.h>
int main(void) { fputs("logferry-indexer: not built yet\n", stderr); return 1; }
