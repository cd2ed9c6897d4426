/* pubnames.c - public function names among aliases (see pubnames.h). */
#include "pubnames.h"

#include <stdlib.h>
#include <string.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

struct named {                 /* the shown symbol at one address */
    GElf_Addr addr;
    const char *name;          /* libdwfl's, or copy */
    char *copy;                /* the name without its "@VERSION", when it had one */
    int exported;
};

struct module_index {
    Dwfl_Module *mod;
    struct named *v;           /* sorted by addr, one per address */
    size_t n;
    UT_hash_handle hh;
};

struct ml_pubnames {
    struct module_index *mods;
};

struct ml_pubnames *ml_pubnames_new(void)
{
    return calloc(1, sizeof(struct ml_pubnames));
}

static void free_index(struct module_index *m)
{
    for (size_t i = 0; i < m->n; i++) free(m->v[i].copy);
    free(m->v);
    free(m);
}

void ml_pubnames_free(struct ml_pubnames *p)
{
    struct module_index *m, *tmp;
    if (!p) return;
    HASH_ITER(hh, p->mods, m, tmp) {
        HASH_DEL(p->mods, m);
        free_index(m);
    }
    free(p);
}

static size_t leading_underscores(const char *s)
{
    return strspn(s, "_");
}

int ml_pubname_prefer(const char *a, int a_exported, const char *b, int b_exported)
{
    if (a_exported != b_exported) return a_exported;
    size_t ua = leading_underscores(a), ub = leading_underscores(b);
    if (ua != ub) return ua < ub;
    size_t la = strcspn(a, "@"), lb = strcspn(b, "@");
    if (la != lb) return la < lb;
    return strcmp(a, b) < 0;
}

static int by_addr(const void *x, const void *y)
{
    const struct named *a = x, *b = y;
    if (a->addr != b->addr) return a->addr < b->addr ? -1 : 1;
    /* the shown one first among the symbols at one address */
    return ml_pubname_prefer(a->name, a->exported, b->name, b->exported) ? -1 :
           ml_pubname_prefer(b->name, b->exported, a->name, a->exported);
}

static int is_function(const GElf_Sym *sym)
{
    int type = GELF_ST_TYPE(sym->st_info);
    return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym->st_shndx != SHN_UNDEF;
}

static int is_exported(const GElf_Sym *sym)
{
    int bind = GELF_ST_BIND(sym->st_info), vis = GELF_ST_VISIBILITY(sym->st_other);
    return (bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE) &&
           (vis == STV_DEFAULT || vis == STV_PROTECTED);
}

/* The index of mod's function symbols: the shown one per address. */
static struct module_index *build(Dwfl_Module *mod)
{
    struct module_index *m = calloc(1, sizeof *m);
    int total = dwfl_module_getsymtab(mod);
    if (!m) return NULL;
    m->mod = mod;
    m->v = malloc((total > 0 ? (size_t)total : 1) * sizeof *m->v);
    if (!m->v) { free(m); return NULL; }
    for (int i = 0; i < total; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (name && *name && *name != '@' && is_function(&sym))
            m->v[m->n++] = (struct named){addr, name, NULL, is_exported(&sym)};
    }
    qsort(m->v, m->n, sizeof *m->v, by_addr);
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++)
        if (k == 0 || m->v[k - 1].addr != m->v[i].addr) m->v[k++] = m->v[i];
    m->n = k;
    /* Versioned dynamic symbols ("__libc_start_main@@GLIBC_2.34") are shown
     * by their name alone, as valgrind shows them. */
    for (size_t i = 0; i < m->n; i++) {
        size_t len = strcspn(m->v[i].name, "@");
        if (m->v[i].name[len] && (m->v[i].copy = strndup(m->v[i].name, len)))
            m->v[i].name = m->v[i].copy;
    }
    return m;
}

const char *ml_pubname(struct ml_pubnames *p, Dwfl_Module *mod, GElf_Addr start)
{
    struct module_index *m = NULL;
    if (!p || !mod) return NULL;
    HASH_FIND_PTR(p->mods, &mod, m);
    if (!m) {
        if (!(m = build(mod))) return NULL;
        HASH_ADD_PTR(p->mods, mod, m);
        if (!m->hh.tbl) {
            free_index(m);
            return NULL;
        }
    }
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].addr < start) lo = mid + 1;
        else hi = mid;
    }
    return lo < m->n && m->v[lo].addr == start ? m->v[lo].name : NULL;
}
