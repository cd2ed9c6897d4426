/* elfsym.c - dynamic symbols of another process's modules (see elfsym.h). */
#include "elfsym.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "capture.h"

int ml_module_named(const char *path, void *prefix)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, prefix, strlen(prefix)) == 0;
}

/* "start-end perms offset dev inode path": the path and start of a mapping
 * at file offset 0, or 0 when the line is something else. */
static int parse_line(const char *line, uint64_t *start, const char **path)
{
    unsigned long long s, e, off;
    int n = 0;
    if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &s, &e, &off, &n) < 3 || n == 0) return 0;
    if (off != 0 || line[n] != '/') return 0;
    *start = s;
    *path = line + n;
    return 1;
}

int ml_module_find(int pid, int (*match)(const char *path, void *ctx), void *ctx,
                   struct ml_module *out)
{
    char *text = ml_read_proc_file(pid, "maps", NULL);
    if (!text) return -errno;
    int rc = -ENOENT;
    for (char *line = text; line && *line && rc == -ENOENT;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        uint64_t start;
        const char *path;
        if (parse_line(line, &start, &path) && match(path, ctx) &&
            strlen(path) < sizeof out->path) {
            strcpy(out->path, path);
            out->start = start;
            rc = 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return rc;
}

/* Lowest PT_LOAD address, page-aligned: what maps to out->start. */
static int load_base(Elf *elf, uint64_t *base)
{
    size_t n;
    if (elf_getphdrnum(elf, &n) != 0) return -ENOEXEC;
    uint64_t lo = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < lo) lo = ph.p_vaddr;
    }
    if (lo == UINT64_MAX) return -ENOEXEC;
    *base = lo & ~4095ull;
    return 0;
}

/* Value of the defined symbol name in section scn (.dynsym), preferring the
 * default version (versym without the hidden bit) when versions exist. */
static int find_dynsym(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, Elf_Data *versym,
                       const char *name, uint64_t *value)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
    int found = 0;
    for (size_t i = 0; data && i < count; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
        const char *s = elf_strptr(elf, sh->sh_link, sym.st_name);
        if (!s || strcmp(s, name) != 0) continue;
        GElf_Versym v = 0;
        int hidden = versym && gelf_getversym(versym, (int)i, &v) && (v & 0x8000);
        if (!found || !hidden) *value = sym.st_value;
        found = 1;
        if (!hidden) break;
    }
    return found ? 0 : -ENOENT;
}

static int lookup(Elf *elf, const char *name, uint64_t *value)
{
    Elf_Scn *scn = NULL, *dynsym = NULL;
    Elf_Data *versym = NULL;
    GElf_Shdr sh, dsh = {0};
    while ((scn = elf_nextscn(elf, scn))) {
        if (!gelf_getshdr(scn, &sh)) continue;
        if (sh.sh_type == SHT_DYNSYM) { dynsym = scn; dsh = sh; }
        if (sh.sh_type == SHT_GNU_versym) versym = elf_getdata(scn, NULL);
    }
    return dynsym ? find_dynsym(elf, dynsym, &dsh, versym, name, value) : -ENOENT;
}

/* The module's file as the target sees it (its root may differ from ours). */
static int open_module(int pid, const char *path)
{
    char buf[PATH_MAX + 32];
    snprintf(buf, sizeof buf, "/proc/%d/root%s", pid, path);
    int fd = open(buf, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : open(path, O_RDONLY | O_CLOEXEC);
}

int ml_module_symbol(int pid, const struct ml_module *m, const char *name, uint64_t *addr)
{
    elf_version(EV_CURRENT);
    int fd = open_module(pid, m->path);
    if (fd < 0) return -errno;
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    uint64_t base = 0, value = 0;
    int rc = elf && elf_kind(elf) == ELF_K_ELF && gelf_getclass(elf) == ELFCLASS64 ? 0 : -ENOEXEC;
    if (rc == 0) rc = load_base(elf, &base);
    if (rc == 0) rc = lookup(elf, name, &value);
    if (rc == 0) *addr = value - base + m->start;
    if (elf) elf_end(elf);
    close(fd);
    return rc;
}
