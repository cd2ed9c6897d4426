/* no_leak.c - allocates and frees: no defect. */
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *p = malloc(32);
    strcpy(p, "clean");
    free(p);
    return 0;
}
