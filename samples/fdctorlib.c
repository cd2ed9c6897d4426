/* fdctorlib.c - libfdctor.so, the library of samples/fdctor: its
 * constructor opens /dev/null (fd 3) before the program's main, and before
 * the constructor of a library preloaded ahead of it (memlens's shim). */
#include <fcntl.h>

static int fd = -1;

__attribute__((constructor)) static void fdctor_init(void)
{
    fd = open("/dev/null", O_RDONLY);
}

int fdctor_fd(void)
{
    return fd;
}
