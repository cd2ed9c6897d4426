/* leak_definite.c - one block of 100 bytes, its pointer dropped:
 * one definitely lost block ("Memory Leak" 1 in CTest). */
#include <stdlib.h>

int main(void)
{
    void *volatile p = malloc(100);
    p = NULL;
    (void)p;
    return 0;
}
