/* leak_possible.c - a 64-byte block reachable only through a pointer 16
 * bytes into it: one possibly lost block ("Potential Memory Leak" 1). */
#include <stdlib.h>

char *volatile g_inside;

int main(void)
{
    g_inside = (char *)malloc(64) + 16;
    return 0;
}
