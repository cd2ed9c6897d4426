/* reachable_only.c - a 48-byte block still pointed at from a global at
 * exit: one still reachable loss record.  CTest passes --show-reachable=yes
 * and counts such a record as a "Potential Memory Leak" (1). */
#include <stdlib.h>

void *volatile g_kept;

int main(void)
{
    g_kept = malloc(48);
    return 0;
}
