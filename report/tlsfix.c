/* tlsfix.c - undoing memlens's own TLS modules in glibc's DTVs (see tlsfix.h). */
#include "tlsfix.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "memlens/session.h"

#define DTV_ENTRY 16u

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The objects memlens loads: the shim and the unwinder it links. */
static int is_memlens_object(const char *path)
{
    const char *b = base_name(path);
    return strcmp(b, "libmemlens.so") == 0 || strncmp(b, "libunwind.so", 12) == 0;
}

static int has_tls_segment(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
    Elf64_Ehdr eh;
    if (fd < 0) return 0;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
        for (unsigned i = 0; i < eh.e_phnum && !found; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph) break;
            found = ph.p_type == PT_TLS;
        }
    }
    close(fd);
    return found;
}

unsigned ml_tls_extra_modules(const struct ml_snapshot *snap)
{
    unsigned n = 0;
    for (size_t i = 0; i < snap->nregions; i++) {
        const struct ml_region *r = &snap->regions[i];
        if (r->offset != 0 || r->path[0] != '/' || !is_memlens_object(r->path)) continue;
        n += has_tls_segment(r->path);      /* first mapping of each object only */
    }
    return n;
}

static int in_loader(const struct ml_snapshot *snap, uint64_t addr)
{
    const struct ml_region *r = ml_snapshot_find(snap, addr);
    return r && strncmp(base_name(r->path), "ld-linux", 8) == 0;
}

/* Whether a calloc made at this stack is the loader allocating a DTV: named
 * so when symbols are at hand, else a short run of loader frames (a DTV
 * comes straight from thread creation in libc; dlopen's own callocs sit
 * under many loader frames). */
static int is_dtv_stack(const struct ml_leak_input *in, uint32_t stack)
{
    uint32_t depth = 0;
    const uint64_t *f = in->stacks.frames ? in->stacks.frames(in->stacks.ctx, stack, &depth) : NULL;
    if (!f || depth < 2 || !in_loader(in->snap, f[0])) return 0;
    if (in->sym) {
        struct ml_symframe sf[8];
        int k = ml_symbolize(in->sym, f[0], 1, sf, 8);
        for (int j = 0; j < k; j++)
            if (sf[j].function && strstr(sf[j].function, "allocate_dtv")) return 1;
        for (int j = 0; j < k; j++)
            if (sf[j].function) return 0;          /* named, and something else */
    }
    uint32_t loader = 0;
    while (loader < depth && in_loader(in->snap, f[loader])) loader++;
    return loader <= 2 && loader < depth;
}

uint64_t ml_tls_fix_blocks(struct ml_block *blocks, size_t n, const struct ml_leak_input *in,
                           unsigned extra_modules)
{
    uint64_t cut = (uint64_t)extra_modules * DTV_ENTRY, total = 0;
    uint32_t yes = 0, no = 0;             /* one-entry cache: DTVs share a stack */
    if (!cut || !in->snap) return 0;
    for (size_t i = 0; i < n; i++) {
        struct ml_block *b = &blocks[i];
        if (b->fn != ML_FN_CALLOC || b->size <= cut || b->size % DTV_ENTRY || !b->stack) continue;
        int dtv = b->stack == yes ? 1 : b->stack == no ? 0 : is_dtv_stack(in, b->stack);
        if (dtv) yes = b->stack; else no = b->stack;
        if (!dtv) continue;
        b->size -= cut;
        total += cut;
    }
    return total;
}
