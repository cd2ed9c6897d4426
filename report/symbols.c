/* symbols.c - symbolization of code addresses with elfutils libdwfl.
 *
 * Turns the /proc/PID/maps text saved at exit into a Dwfl (one module per
 * mapped file, opened lazily by path) and resolves each distinct (address,
 * return_address) once: inlined functions innermost first, then the one
 * holding them, each with source file, line and module path.
 * Owns the Dwfl (so every module path and DWARF string handed out), the
 * strings it makes (demangled names, joined source paths) and the cache,
 * until ml_symbolizer_free().  Prints nothing; errors are set in errno.
 * C++ names are demangled by __cxa_demangle when the program has it (memlens
 * is C, without libstdc++): a weak reference finds it if linked, dlsym if
 * some library loaded it, else libstdc++.so.6 is opened for it (it is on
 * every machine that builds C++); failing all that, names stay mangled.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include <pthread.h>
#include <elfutils/libdwfl.h>

#define HASH_NONFATAL_OOM 1    /* on ENOMEM, HASH_ADD leaves hh.tbl NULL */
#include <uthash.h>

#include "pubnames.h"
#include "symbols.h"

typedef char *(*demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status)
    __attribute__((weak));
static demangle_fn find_demangler(void);

struct interned {              /* a string made here */
    UT_hash_handle hh;
    char str[];
};

struct cached {                /* the frames of one (address, return_address) */
    uint64_t key[2];
    int nframes;
    UT_hash_handle hh;
    struct ml_symframe frames[];
};

struct found {                 /* one answer of ml_symbol_address */
    uint64_t address;
    const char *module;
    UT_hash_handle hh;
    char key[];                /* "module_base\nname" */
};

struct ml_symbolizer {
    Dwfl *dwfl;
    demangle_fn demangle;      /* NULL: names stay mangled */
    struct cached *cache;
    struct found *found;       /* ml_symbol_address's answers: one symbol table scan each */
    struct interned *strings;
    struct ml_pubnames *pubnames;
};

struct site {                  /* where a looked-up address lies */
    Dwfl_Module *mod;          /* NULL: in no module */
    Dwarf_Addr pc;             /* the address looked up */
    Dwarf_Die *cu;             /* NULL: no DWARF for it */
    Dwarf_Addr dwpc;           /* pc as an address in cu's DWARF */
};

static char *debuginfo_path;   /* NULL: libdwfl's default search path */

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* Copy into a new string the lines of maps_text that map a file which can
 * be opened by its path now: deleted files (replaced on disk, memfd, SysV
 * shm) would give wrong or no symbols.  Notes the [vdso] range.  NULL on
 * ENOMEM. */
static char *file_lines(const char *maps_text, size_t *outlen, uint64_t vdso[2])
{
    char *out = malloc(strlen(maps_text) + 2);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (const char *p = maps_text; *p != '\0';) {
        size_t len = strcspn(p, "\n");
        char *line = memcpy(out + n, p, len);
        uint64_t start, end;
        int at = -1;           /* set only when the whole line prefix matched */

        line[len] = '\0';
        p += len + (p[len] == '\n');
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %*x %*x:%*x %*u %n",
                   &start, &end, &at) < 2 || at <= 0)
            continue;
        const char *path = line + at;
        size_t plen = strlen(path);
        if (strcmp(path, "[vdso]") == 0) {
            vdso[0] = start;
            vdso[1] = end;
        } else if (path[0] == '/' && strncmp(path, "/memfd:", 7) != 0
                   && !(plen >= 10 && strcmp(path + plen - 10, " (deleted)") == 0)) {
            n += len;
            out[n++] = '\n';
        }
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* Report the modules of maps_text, and the vDSO (read from /proc/PID/mem
 * by dwfl_linux_proc_find_elf, so only while pid lives), to dwfl. */
static int report_maps(Dwfl *dwfl, const char *maps_text, int pid)
{
    uint64_t vdso[2] = { 0, 0 };
    size_t len;
    char *text = file_lines(maps_text, &len, vdso), name[32];
    FILE *f = NULL;
    int err = 0;

    if (text == NULL)
        return ENOMEM;
    dwfl_report_begin(dwfl);
    if (len > 0 && (f = fmemopen(text, len, "r")) == NULL)
        err = errno;
    if (f != NULL) {
        int rc = dwfl_linux_proc_maps_report(dwfl, f);
        err = rc > 0 ? rc : rc < 0 ? ENOEXEC : 0;
        fclose(f);
    }
    free(text);
    snprintf(name, sizeof name, "[vdso: %d]", pid);
    if (err == 0 && pid > 0 && vdso[1] > vdso[0]
        && dwfl_report_module(dwfl, name, vdso[0], vdso[1]) == NULL)
        err = ENOMEM;
    return err;
}

struct ml_symbolizer *ml_symbolizer_new(const char *maps_text, int pid)
{
    struct ml_symbolizer *s;
    int err;

    if (maps_text == NULL) {
        errno = EINVAL;
        return NULL;
    }
    if ((s = calloc(1, sizeof *s)) == NULL)
        return NULL;
    s->demangle = find_demangler();
    s->pubnames = ml_pubnames_new();
    s->dwfl = dwfl_begin(&callbacks);
    err = s->dwfl == NULL ? ENOMEM : report_maps(s->dwfl, maps_text, pid);
    if (err == 0 && dwfl_report_end(s->dwfl, NULL, NULL) != 0)
        err = ENOEXEC;
    if (err != 0) {
        ml_symbolizer_free(s);
        errno = err;
        return NULL;
    }
    return s;
}

void ml_symbolizer_free(struct ml_symbolizer *s)
{
    struct cached *c, *ctmp;
    struct interned *i, *itmp;

    if (s == NULL)
        return;
    HASH_ITER(hh, s->cache, c, ctmp) {
        HASH_DEL(s->cache, c);
        free(c);
    }
    HASH_ITER(hh, s->strings, i, itmp) {
        HASH_DEL(s->strings, i);
        free(i);
    }
    struct found *f, *ftmp;
    HASH_ITER(hh, s->found, f, ftmp) {
        HASH_DEL(s->found, f);
        free(f);
    }
    ml_pubnames_free(s->pubnames);
    dwfl_end(s->dwfl);
    free(s);
}

/* The interned copy of str, owned by s; NULL when memory runs out. */
static const char *intern(struct ml_symbolizer *s, const char *str)
{
    struct interned *e;

    HASH_FIND_STR(s->strings, str, e);
    if (e == NULL && (e = malloc(sizeof *e + strlen(str) + 1)) != NULL) {
        strcpy(e->str, str);
        HASH_ADD_STR(s->strings, str, e);
        if (e->hh.tbl == NULL) {
            free(e);
            return NULL;
        }
    }
    return e != NULL ? e->str : NULL;
}

static demangle_fn demangler;

static void look_up_demangler(void)
{
    if (__cxa_demangle != NULL) {
        demangler = __cxa_demangle;
        return;
    }
    demangler = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
    if (demangler != NULL) return;
    void *lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);  /* kept open */
    demangler = lib != NULL ? (demangle_fn)dlsym(lib, "__cxa_demangle") : NULL;
}

/* Looked up once: a symbolizer is made for every process of a run. */
static demangle_fn find_demangler(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, look_up_demangler);
    return demangler;
}

/* The demangled form of name, owned by s; name itself when it is not a C++
 * name, cannot be demangled, or memory runs out. */
static const char *demangled(struct ml_symbolizer *s, const char *name)
{
    const char *in = NULL;
    int status = -1;
    char *d;

    if (name == NULL || strncmp(name, "_Z", 2) != 0 || s->demangle == NULL)
        return name;
    d = s->demangle(name, NULL, NULL, &status);
    if (d != NULL && status == 0)
        in = intern(s, d);
    free(d);
    return in != NULL ? in : name;
}

/* file joined to the compilation directory of cu when it is relative. */
static const char *full_path(struct ml_symbolizer *s, Dwarf_Die *cu, const char *file)
{
    Dwarf_Attribute attr;
    const char *dir, *in = NULL;
    char *path;

    if (file == NULL || file[0] == '/' || cu == NULL)
        return file;
    dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
    if (dir != NULL && dir[0] == '/' && asprintf(&path, "%s/%s", dir, file) >= 0) {
        in = intern(s, path);
        free(path);
    }
    return in != NULL ? in : file;
}

/* The (mangled) linkage name of a function DIE; NULL for C functions. */
static const char *linkage_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));

    return name != NULL ? name
        : dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
}

/* name when it is a mangled C++ name, else NULL. */
static const char *cxx_only(const char *name)
{
    return name != NULL && strncmp(name, "_Z", 2) == 0 ? name : NULL;
}

/* The name of a subprogram or inlined subroutine DIE, demangled. */
static const char *die_name(struct ml_symbolizer *s, Dwarf_Die *die)
{
    const char *name = linkage_name(die);

    return name != NULL ? demangled(s, name) : dwarf_diename(die);
}

/* The name of the out-of-line function at the site, as valgrind shows it:
 * the ELF symbol of the function, the public one among its aliases
 * (pubnames.h), demangled, with clone suffixes (".part.0", ".isra.0") kept
 * as the symbol has them; the DWARF name when no symbol covers the site.
 * *mangled is set to the symbol's linkage name when it is a C++ one, and
 * aliases[] to the other names seen (the first symbol found, the DWARF one). */
static const char *outer_name(struct ml_symbolizer *s, const struct site *at,
                              const char *dwarf_name, const char **mangled,
                              const char *aliases[2])
{
    GElf_Off off;
    GElf_Sym sym;
    const char *elf = dwfl_module_addrinfo(at->mod, at->pc, &off, &sym, NULL, NULL, NULL);
    if (elf == NULL)
        return dwarf_name;
    const char *shown = ml_pubname(s->pubnames, at->mod, at->pc - off);
    if (shown == NULL)
        shown = elf;
    *mangled = cxx_only(shown);
    const char *name = demangled(s, shown);
    size_t vlen = strcspn(elf, "@");
    char first[256];
    if (vlen < sizeof first) {
        memcpy(first, elf, vlen);
        first[vlen] = '\0';
        if (strcmp(first, shown) != 0)
            aliases[0] = intern(s, first);
    }
    if (dwarf_name && strcmp(dwarf_name, name) != 0)
        aliases[1] = dwarf_name;
    return name;
}

/* Find the module and compilation unit of pc.  The range is checked as
 * dwfl_addrmodule may answer with the module just below an address in no
 * module (an unreported vDSO, a JIT region).  Objects without
 * .debug_aranges (clang's default) are searched CU by CU. */
static void locate(Dwfl *dwfl, Dwarf_Addr pc, struct site *at)
{
    Dwarf_Addr bias = 0, low, high;

    memset(at, 0, sizeof *at);
    at->pc = pc;
    at->mod = dwfl_addrmodule(dwfl, pc);
    if (at->mod == NULL
        || dwfl_module_info(at->mod, NULL, &low, &high, NULL, NULL, NULL, NULL) == NULL
        || pc < low || pc >= high) {
        at->mod = NULL;
        return;
    }
    at->cu = dwfl_module_addrdie(at->mod, pc, &bias);
    if (at->cu == NULL)
        while ((at->cu = dwfl_module_nextcu(at->mod, at->cu, &bias)) != NULL)
            if (dwarf_haspc(at->cu, pc - bias) == 1)
                break;
    at->dwpc = pc - bias;
}

/* The function DIEs around the site, innermost first: inlined subroutines,
 * then the subprogram holding them.  Returns their count (0 without DWARF);
 * *out is left NULL or set to a malloc'd array. */
static int function_chain(const struct site *at, Dwarf_Die **out)
{
    Dwarf_Die *scopes = NULL, inner;
    int n, k = 0;

    if (at->cu == NULL || dwarf_getscopes(at->cu, at->dwpc, &scopes) <= 0)
        return 0;
    inner = scopes[0];         /* the concrete scope; the rest follow abstract origins */
    free(scopes);
    scopes = NULL;
    n = dwarf_getscopes_die(&inner, &scopes);
    for (int i = 0; i < n; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_inlined_subroutine)
            scopes[k++] = scopes[i];
        else if (tag == DW_TAG_subprogram || tag == DW_TAG_entry_point) {
            scopes[k++] = scopes[i];
            break;
        }
    }
    *out = scopes;
    return k;
}

/* The line table's file and line for the site. */
static void line_of(struct ml_symbolizer *s, const struct site *at, const char **file, int *line)
{
    Dwarf_Line *l = at->cu ? dwarf_getsrc_die(at->cu, at->dwpc) : NULL;

    *file = l ? full_path(s, at->cu, dwarf_linesrc(l, NULL, NULL)) : NULL;
    if (*file == NULL || dwarf_lineno(l, line) != 0)
        *line = 0;
}

/* The call site (DW_AT_call_file, DW_AT_call_line) of an inlined subroutine. */
static void call_site(struct ml_symbolizer *s, Dwarf_Die *inl, const char **file, int *line)
{
    Dwarf_Attribute attr;
    Dwarf_Word val;
    Dwarf_Die cu;
    Dwarf_Files *files;

    *file = NULL;
    *line = 0;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &val) == 0
        && dwarf_diecu(inl, &cu, NULL, NULL) != NULL
        && dwarf_getsrcfiles(&cu, &files, NULL) == 0)
        *file = full_path(s, &cu, dwarf_filesrc(files, val, NULL, NULL));
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &val) == 0)
        *line = (int)val;
}

/* Resolve one address into a new cache entry; NULL on ENOMEM.  Frame i
 * is chain[i] at the line of the address (i = 0) or at the call site of
 * chain[i - 1], as eu-addr2line -i prints them. */
static struct cached *resolve(struct ml_symbolizer *s, uint64_t addr, int return_address)
{
    struct site at;
    Dwarf_Die *chain = NULL;
    struct cached *e;

    locate(s->dwfl, return_address && addr > 0 ? addr - 1 : addr, &at);
    int n = function_chain(&at, &chain), nframes = n > 0 ? n : 1;
    const char *module = at.mod ? dwfl_module_info(at.mod, NULL, NULL, NULL, NULL, NULL,
                                                   NULL, NULL) : NULL;
    if ((e = calloc(1, sizeof *e + (size_t)nframes * sizeof e->frames[0])) == NULL) {
        free(chain);
        return NULL;
    }
    e->key[0] = addr;
    e->key[1] = return_address != 0;
    e->nframes = nframes;
    for (int i = 0; i < nframes; i++) {
        struct ml_symframe *f = &e->frames[i];
        f->address = addr;
        f->module = module != NULL && module[0] == '/' ? module : NULL;  /* not the vDSO */
        f->inlined = i < nframes - 1;
        f->function = i < n ? die_name(s, &chain[i]) : NULL;
        f->linkage_name = i < n ? cxx_only(linkage_name(&chain[i])) : NULL;
        if (i == 0)
            line_of(s, &at, &f->file, &f->line);
        else
            call_site(s, &chain[i - 1], &f->file, &f->line);
    }
    if (at.mod != NULL)
        e->frames[nframes - 1].function = outer_name(s, &at, e->frames[nframes - 1].function,
                                                     &e->frames[nframes - 1].linkage_name,
                                                     e->frames[nframes - 1].aliases);
    free(chain);
    return e;
}

int ml_symbolize(struct ml_symbolizer *s, uint64_t addr, int return_address,
                 struct ml_symframe *out, int max)
{
    uint64_t key[2] = { addr, return_address != 0 };
    struct cached *e = NULL;

    if (out == NULL || max < 1) {
        errno = EINVAL;
        return 0;
    }
    if (s != NULL)
        HASH_FIND(hh, s->cache, key, sizeof key, e);
    if (s != NULL && e == NULL && (e = resolve(s, addr, return_address)) != NULL) {
        HASH_ADD(hh, s->cache, key, sizeof key, e);
        if (e->hh.tbl == NULL) {
            free(e);           /* not cached: give the unknown frame below */
            e = NULL;
            errno = ENOMEM;
        }
    }
    if (e == NULL) {
        memset(out, 0, sizeof *out);
        out->address = addr;
        return 1;
    }
    int n = e->nframes < max ? e->nframes : max;
    memcpy(out, e->frames, (size_t)n * sizeof *out);
    return n;
}

struct lookup {
    const char *module_base, *name;
    uint64_t address;
    const char *module;
};

static int lookup_in_module(Dwfl_Module *mod, void **userdata, const char *mname,
                            Dwarf_Addr start, void *arg)
{
    (void)userdata, (void)start;
    struct lookup *l = arg;
    const char *base = strrchr(mname, '/');
    if (strcmp(base ? base + 1 : mname, l->module_base) != 0) return DWARF_CB_OK;
    int n = dwfl_module_getsymtab(mod);
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *sname = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (sname && (GELF_ST_TYPE(sym.st_info) == STT_FUNC || GELF_ST_TYPE(sym.st_info) == STT_OBJECT) &&
            sym.st_shndx != SHN_UNDEF &&
            strcmp(sname, l->name) == 0) {
            l->address = addr;
            l->module = mname;
            return DWARF_CB_ABORT;
        }
    }
    return DWARF_CB_OK;
}

/* Every leak record names its allocator's function: the answer is kept,
 * for a scan of a whole symbol table per record costs more than the rest of
 * the analysis at a million records. */
uint64_t ml_symbol_address(struct ml_symbolizer *s, const char *module_base, const char *name,
                           const char **module)
{
    struct lookup l = {.module_base = module_base, .name = name};
    char key[512];
    struct found *f = NULL;
    int n = snprintf(key, sizeof key, "%s\n%s", module_base, name);
    int keep = s && n > 0 && (size_t)n < sizeof key;
    if (keep) HASH_FIND_STR(s->found, key, f);
    if (f) {
        l.address = f->address;
        l.module = f->module;
    } else {
        if (s && s->dwfl) dwfl_getmodules(s->dwfl, lookup_in_module, &l, 0);
        if (keep && (f = malloc(sizeof *f + (size_t)n + 1)) != NULL) {
            *f = (struct found){.address = l.address, .module = l.module};
            memcpy(f->key, key, (size_t)n + 1);
            HASH_ADD_STR(s->found, key, f);
            if (f->hh.tbl == NULL) free(f);   /* not kept: asked again next time */
        }
    }
    if (module) *module = l.module;
    return l.address;
}
