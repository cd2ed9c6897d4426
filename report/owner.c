/* owner.c - memlens's own mappings apart from the program's (see owner.h). */
#include "owner.h"
#include "memlens/session.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHIM_NAME "libmemlens.so"

struct object {
    const char *path;           /* the snapshot's string */
    char *soname;               /* DT_SONAME, NULL when none */
    char **needed;              /* DT_NEEDED names */
    size_t nneeded;
    int shim_side, program_side;
};

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int add_needed(struct object *o, const char *name)
{
    char **grown = realloc(o->needed, (o->nneeded + 1) * sizeof *grown);
    if (!grown) return -ENOMEM;
    o->needed = grown;
    if (!(o->needed[o->nneeded] = strdup(name))) return -ENOMEM;
    o->nneeded++;
    return 0;
}

/* DT_SONAME and DT_NEEDED of the ELF file at o->path; an unreadable file
 * (deleted, not ELF) has none.  Returns 0 or -ENOMEM. */
static int read_dynamic(struct object *o)
{
    int fd = open(o->path, O_RDONLY | O_CLOEXEC), rc = 0;
    if (fd < 0) return 0;
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    Elf_Scn *scn = NULL;
    while (e && rc == 0 && (scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !(d = elf_getdata(scn, NULL)))
            continue;
        for (size_t i = 0; sh.sh_entsize && i < sh.sh_size / sh.sh_entsize && rc == 0; i++) {
            GElf_Dyn dyn;
            if (!gelf_getdyn(d, (int)i, &dyn)) break;
            if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_SONAME) continue;
            const char *name = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
            if (!name) continue;
            if (dyn.d_tag == DT_NEEDED) rc = add_needed(o, name);
            else if (!o->soname && !(o->soname = strdup(name))) rc = -ENOMEM;
        }
    }
    if (e) elf_end(e);
    close(fd);
    return rc;
}

static void names_free(struct object *o)
{
    for (size_t j = 0; j < o->nneeded; j++) free(o->needed[j]);
    free(o->needed);
    free(o->soname);
}

/* The dynamic sections read so far in this run, by path and inode. */
struct known {
    char *path;
    uint64_t inode;
    struct object names;        /* soname and needed; path unused */
    struct known *next;
};
static struct known *known;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

/* to's soname and needed, copied from from's. Returns 0 or -ENOMEM. */
static int copy_names(struct object *to, const struct object *from)
{
    if (from->soname && !(to->soname = strdup(from->soname))) return -ENOMEM;
    for (size_t i = 0; i < from->nneeded; i++)
        if (add_needed(to, from->needed[i])) return -ENOMEM;
    return 0;
}

/* o's dynamic names, from the file the first time (path, inode), then
 * from what that read kept.  Returns 0 or -ENOMEM. */
static int dynamic_of(struct object *o, uint64_t inode)
{
    pthread_mutex_lock(&known_lock);
    struct known *k = known;
    while (k && (k->inode != inode || strcmp(k->path, o->path) != 0)) k = k->next;
    int rc = k ? copy_names(o, &k->names) : read_dynamic(o);
    if (rc == 0 && !k && (k = calloc(1, sizeof *k)) != NULL) {
        if ((k->path = strdup(o->path)) && copy_names(&k->names, o) == 0) {
            k->inode = inode;
            k->next = known;
            known = k;
        } else {                              /* not kept: read again next time */
            names_free(&k->names);
            free(k->path);
            free(k);
        }
    }
    pthread_mutex_unlock(&known_lock);
    return rc;
}

/* The loaded object a DT_NEEDED name stands for, or NULL. */
static struct object *find_object(struct object *objs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (objs[i].soname && strcmp(objs[i].soname, name) == 0) return &objs[i];
    for (size_t i = 0; i < n; i++)
        if (strcmp(base_name(objs[i].path), name) == 0) return &objs[i];
    return NULL;
}

/* Mark o and everything its DT_NEEDED closure reaches on one side. */
static void reach(struct object *objs, size_t n, struct object *o, int program)
{
    int *side = program ? &o->program_side : &o->shim_side;
    if (*side) return;
    *side = 1;
    for (size_t i = 0; i < o->nneeded; i++) {
        struct object *dep = find_object(objs, n, o->needed[i]);
        if (dep) reach(objs, n, dep, program);
    }
}

static int is_object_region(const struct ml_region *r)
{
    return r->path[0] == '/' && (r->kind == ML_RK_TEXT || r->kind == ML_RK_RODATA ||
                                 r->kind == ML_RK_DATA);
}

/* The distinct loaded objects of snap, with their dynamic sections. */
static int collect(const struct ml_snapshot *snap, struct object **out, size_t *nout)
{
    struct object *objs = calloc(snap->nregions ? snap->nregions : 1, sizeof *objs);
    size_t n = 0;
    if (!objs) return -ENOMEM;
    *out = objs;
    for (size_t i = 0; i < snap->nregions; i++) {
        const struct ml_region *r = &snap->regions[i];
        size_t k = 0;
        if (!is_object_region(r)) continue;
        while (k < n && strcmp(objs[k].path, r->path) != 0) k++;
        if (k < n) continue;
        objs[n].path = r->path;
        *nout = ++n;
        if (dynamic_of(&objs[k], r->inode)) return -ENOMEM;
    }
    return 0;
}

static void objects_free(struct object *objs, size_t n)
{
    for (size_t i = 0; i < n; i++) names_free(&objs[i]);
    free(objs);
}

/* The anonymous regions (a state block and its guard pages) wholly inside a
 * mapping the shim lists as its own. */
static void mark_own_maps(const struct ml_snapshot *snap, struct ml_symbolizer *sym,
                          unsigned char *memlens)
{
    uint64_t list = sym ? ml_symbol_address(sym, SHIM_NAME, ML_OWN_MAPS_SYMBOL, NULL) : 0, n = 0;
    if (!list || !ml_snapshot_read_word(snap, list, &n)) return;
    if (n > ML_OWN_MAPS_MAX) n = ML_OWN_MAPS_MAX;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t at = list + 8 + 16 * k, addr = 0, len = 0;
        if (!ml_snapshot_read_word(snap, at, &addr) || !ml_snapshot_read_word(snap, at + 8, &len))
            continue;
        uint64_t end = addr + ((len + ML_PAGE_SIZE - 1) & ~(uint64_t)(ML_PAGE_SIZE - 1));
        for (size_t i = 0; i < snap->nregions; i++) {
            const struct ml_region *r = &snap->regions[i];
            if ((r->kind == ML_RK_MMAP_ANON || r->kind == ML_RK_GUARD) && r->start >= addr &&
                r->end <= end)
                memlens[i] = 1;
        }
    }
}

int ml_owner_mark(const struct ml_snapshot *snap, struct ml_symbolizer *sym, unsigned char *memlens)
{
    struct object *objs = NULL, *shim = NULL;
    size_t n = 0;

    memset(memlens, 0, snap->nregions);
    elf_version(EV_CURRENT);
    int rc = collect(snap, &objs, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (strcmp(base_name(objs[i].path), SHIM_NAME) == 0) shim = &objs[i];
    if (rc || !shim) {
        objects_free(objs, n);
        return rc;
    }
    mark_own_maps(snap, sym, memlens);
    reach(objs, n, shim, 0);
    for (size_t i = 0; i < n; i++)
        if (!objs[i].shim_side) reach(objs, n, &objs[i], 1);
    for (size_t i = 0; i < snap->nregions; i++) {
        const struct ml_region *r = &snap->regions[i];
        if (is_object_region(r)) {
            struct object *o = NULL;
            for (size_t k = 0; !o && k < n; k++)
                if (strcmp(objs[k].path, r->path) == 0) o = &objs[k];
            memlens[i] = o && o->shim_side && !o->program_side;
        } else if (r->kind == ML_RK_BSS && i > 0) {
            memlens[i] = memlens[i - 1];        /* an object's .bss goes with it */
        }
    }
    objects_free(objs, n);
    return 0;
}
