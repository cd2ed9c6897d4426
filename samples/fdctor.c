/* fdctor.c - a descriptor opened by a library's constructor (--track-fds).
 *
 * Linked with samples/libfdctor.so, whose constructor opens /dev/null as
 * fd 3 in fdctor_init() and keeps it open: at exit 4 are open (3 std), and
 * fd 3 was made by open, called from fdctor_init, not inherited.  That
 * constructor runs before the one of a library preloaded ahead of it.
 * `fdctor --expect` prints this as JSON, as samples/fdleak does.
 */
#include <stdio.h>
#include <string.h>

int fdctor_fd(void);

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        printf("{\"processes\":[{\"open\":4,\"std\":3,\"fds\":{\"3\":[\"file\",\"/dev/null\",\"open\"]},"
               "\"functions\":{\"3\":\"fdctor_init\"}}]}\n");
        return 0;
    }
    return fdctor_fd() == 3 ? 0 : 2;
}
