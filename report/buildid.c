/* buildid.c - the GNU build-id of an ELF file (see buildid.h). */
#include <fcntl.h>
#include <libelf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdwelf.h>
#include "buildid.h"

static char *to_hex(const unsigned char *id, ssize_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc((size_t)len * 2 + 1);

    for (ssize_t i = 0; hex && i < len; i++) {
        hex[2 * i] = digits[id[i] >> 4];
        hex[2 * i + 1] = digits[id[i] & 15];
    }
    if (hex)
        hex[len * 2] = '\0';
    return hex;
}

char *ml_build_id(const char *path)
{
    const void *id = NULL;
    char *hex = NULL;
    int fd = path && path[0] == '/' ? open(path, O_RDONLY | O_CLOEXEC) : -1;

    if (fd < 0)
        return NULL;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    ssize_t len = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
    if (len > 0)
        hex = to_hex(id, len);
    if (elf)
        elf_end(elf);
    close(fd);
    return hex;
}

struct known {                 /* one file's id, read in this run */
    char *path;
    uint64_t inode;
    char *id;                  /* NULL: the file has none */
    struct known *next;
};
static struct known *known;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keep path's id (NULL: none); nothing is kept when memory runs out. */
static void remember(const char *path, uint64_t inode, const char *id)
{
    struct known *k = calloc(1, sizeof *k);
    if (!k || !(k->path = strdup(path)) || (id && !(k->id = strdup(id)))) {
        if (k) free(k->path);
        free(k);
        return;
    }
    k->inode = inode;
    k->next = known;
    known = k;
}

char *ml_build_id_of(const char *path, uint64_t inode)
{
    char *out;
    pthread_mutex_lock(&known_lock);
    struct known *k = known;
    while (k && (k->inode != inode || strcmp(k->path, path) != 0)) k = k->next;
    if (k) {
        out = k->id ? strdup(k->id) : NULL;
    } else {
        out = ml_build_id(path);
        remember(path, inode, out);
    }
    pthread_mutex_unlock(&known_lock);
    return out;
}
