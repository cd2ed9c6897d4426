/* attach.c - attach mode of libmemlens.so (memlens -p PID).
 *
 * Loaded with dlopen into a process that is already running, the shim is
 * not first in the symbol search order, so nothing calls its interposers by
 * itself.  memlens calls the two entry points of include/memlens/attach.h on
 * one of the target's threads:
 *   - memlens_attach_start creates a session and returns its descriptor
 *     (the tracer adopts it, as it adopts a run-mode session at its mmap);
 *   - memlens_attach_patch starts recording and points the GOT entries of
 *     the allocation functions (JUMP_SLOT and GLOB_DAT relocations) of every
 *     loaded object but the shim and the dynamic loader at the shim's own
 *     functions.  An entry is only rewritten when it leads to the very
 *     function the shim forwards to, so a program with an allocator of its
 *     own keeps it.  Every rewrite is listed in memlens_attach_table first.
 * A watcher thread then patches objects that are dlopen'ed later (it polls
 * the loader's load counter) and, should the tracer vanish without
 * detaching, puts every entry back and leaves the shim inert.  At a normal
 * end the tracer restores the entries itself with ptrace and clears
 * `adopted`; the watcher sees that and ends.
 *
 * Owns: the attach session (mapping and descriptor until adoption), the
 * hook list, the patch table and the watcher thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "memlens/attach.h"
#include "memlens/session.h"
#include "record.h"
#include "shim.h"
#include "views.h"

#define WATCH_PERIOD_NS 20000000L    /* 20 ms between the watcher's checks */
#define DETACH_GRACE_NS 100000000L   /* 100 ms from detach to the session's unmapping */
#define PAGE 4096ul

ML_EXPORT struct ml_patch_table memlens_attach_table;

static struct ml_header *g_sess;     /* session of the current attach */
static int g_sess_recorded;          /* handed to record.c, which maps it from then on */
static int g_sess_fd = -1;           /* its descriptor until the tracer adopted it */
static uint32_t g_frames;
static int g_watching;               /* watcher thread alive (atomic) */
static pthread_mutex_t g_patch_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- hooks ------------------------------------------------------------- */

static const char *const hook_names[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc",
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
    "_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
    "_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
    "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvRKSt9nothrow_t",
    "_ZdaPvRKSt9nothrow_t", "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
    "_ZdlPvSt11align_val_tRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t",
    "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t",
};
#define NHOOKS (sizeof(hook_names) / sizeof(hook_names[0]))

struct hook {
    uint64_t shim;     /* the shim's function of that name */
    uint64_t real;     /* the function the shim forwards to: dlsym(RTLD_NEXT) */
    uint64_t lazy;     /* what an unresolved (lazy) PLT entry will bind to */
};

static struct hook g_hooks[NHOOKS];
static const char *g_self_name;      /* the shim's path as the loader knows it */

/* The real function of a C++ operator, found as shim.c's op_sym finds it. */
static void *real_cxx(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
        f = h ? dlsym(h, name) : NULL;   /* h stays open while f is in use */
    }
    return f;
}

/* Fill g_hooks; done before any walk of the loaded objects (dlsym must
 * not be called from inside dl_iterate_phdr: lock order). */
static int resolve_hooks(void)
{
    Dl_info info;

    if (!dladdr((void *)&resolve_hooks, &info) || !info.dli_fname)
        return -ENOENT;
    void *self = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (!self)
        return -ENOENT;
    g_self_name = info.dli_fname;
    for (size_t i = 0; i < NHOOKS; i++) {
        const char *n = hook_names[i];
        g_hooks[i].shim = (uint64_t)(uintptr_t)dlsym(self, n);
        g_hooks[i].real = (uint64_t)(uintptr_t)(n[0] == '_' ? real_cxx(n) : dlsym(RTLD_NEXT, n));
        g_hooks[i].lazy = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, n);
    }
    dlclose(self);   /* NOLOAD took a reference; memlens's dlopen keeps us loaded */
    return 0;
}

static int hook_index(const char *name)
{
    for (size_t i = 0; i < NHOOKS; i++)
        if (strcmp(hook_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* ---- one object's relocations ----------------------------------------- */

struct obj {
    uint64_t base;                 /* load bias */
    const ElfW(Phdr) *phdr;
    size_t phnum;
    uint64_t relro_lo, relro_hi;
    const ElfW(Sym) *symtab;
    const char *strtab;
};

static bool in_object(const struct obj *o, uint64_t a)
{
    for (size_t i = 0; i < o->phnum; i++) {
        const ElfW(Phdr) *p = &o->phdr[i];
        uint64_t lo = o->base + p->p_vaddr;
        if (p->p_type == PT_LOAD && a >= lo && a < lo + p->p_memsz)
            return true;
    }
    return false;
}

/* Dynamic-section pointers are relocated by the loader on Linux; a value
 * below the load bias has not been (read-only dynamic section). */
static uint64_t dyn_ptr(const struct obj *o, uint64_t v)
{
    return v < o->base ? v + o->base : v;
}

static bool set_writable(uint64_t slot, bool on)
{
    void *page = (void *)(uintptr_t)(slot & ~(PAGE - 1));
    return mprotect(page, PAGE, on ? PROT_READ | PROT_WRITE : PROT_READ) == 0;
}

/* Write hook h into slot, listing it in the table first. */
static void patch_slot(const struct obj *o, uint64_t slot, const struct hook *h)
{
    uint64_t cur = __atomic_load_n((uint64_t *)(uintptr_t)slot, __ATOMIC_RELAXED);
    if (cur == h->shim || !h->shim)
        return;
    uint64_t target = in_object(o, cur) ? h->lazy : cur;
    if (!target || target != h->real)
        return;                    /* not the allocator the shim forwards to */
    struct ml_patch_table *t = &memlens_attach_table;
    uint32_t n = t->count;
    if (n >= ML_ATTACH_PATCHES) {
        t->full = 1;
        return;
    }
    bool relro = slot >= o->relro_lo && slot < o->relro_hi;
    if (relro && !set_writable(slot, true))
        return;
    t->e[n] = (struct ml_patch){ .slot = slot, .orig = cur, .hook = h->shim, .relro = relro };
    __atomic_store_n(&t->count, n + 1, __ATOMIC_RELEASE);
    __atomic_store_n((uint64_t *)(uintptr_t)slot, h->shim, __ATOMIC_RELEASE);
    if (relro)
        set_writable(slot, false);
}

static long patch_relas(const struct obj *o, uint64_t rela, uint64_t bytes)
{
    const ElfW(Rela) *r = (const ElfW(Rela) *)(uintptr_t)rela;
    long n = 0;

    for (size_t i = 0; r && i < bytes / sizeof(*r); i++) {
        uint32_t type = ELF64_R_TYPE(r[i].r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
            continue;
        int k = hook_index(o->strtab + o->symtab[ELF64_R_SYM(r[i].r_info)].st_name);
        if (k < 0)
            continue;
        uint32_t before = memlens_attach_table.count;
        patch_slot(o, o->base + r[i].r_offset, &g_hooks[k]);
        n += memlens_attach_table.count != before;
    }
    return n;
}

static long patch_dynamic(struct obj *o, const ElfW(Dyn) *d)
{
    uint64_t rela = 0, relasz = 0, jmprel = 0, pltsz = 0, pltrel = DT_RELA;

    for (; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB: o->symtab = (const void *)(uintptr_t)dyn_ptr(o, d->d_un.d_ptr); break;
        case DT_STRTAB: o->strtab = (const void *)(uintptr_t)dyn_ptr(o, d->d_un.d_ptr); break;
        case DT_RELA: rela = dyn_ptr(o, d->d_un.d_ptr); break;
        case DT_RELASZ: relasz = d->d_un.d_val; break;
        case DT_JMPREL: jmprel = dyn_ptr(o, d->d_un.d_ptr); break;
        case DT_PLTRELSZ: pltsz = d->d_un.d_val; break;
        case DT_PLTREL: pltrel = d->d_un.d_val; break;
        }
    }
    if (!o->symtab || !o->strtab)
        return 0;
    long n = patch_relas(o, rela, relasz);
    if (pltrel == DT_RELA)
        n += patch_relas(o, jmprel, pltsz);
    return n;
}

static bool skip_object(const struct dl_phdr_info *info)
{
    const char *name = info->dlpi_name;
    const char *base = strrchr(name, '/');

    base = base ? base + 1 : name;
    return (g_self_name && strcmp(name, g_self_name) == 0) ||
           strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld64.so", 7) == 0 ||
           strncmp(base, "linux-vdso", 10) == 0;
}

static int patch_object(struct dl_phdr_info *info, size_t size, void *data)
{
    long *total = data;
    struct obj o = { .base = info->dlpi_addr, .phdr = info->dlpi_phdr, .phnum = info->dlpi_phnum };
    const ElfW(Dyn) *dyn = NULL;

    (void)size;
    if (skip_object(info))
        return 0;
    for (size_t i = 0; i < o.phnum; i++) {
        const ElfW(Phdr) *p = &o.phdr[i];
        if (p->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(uintptr_t)(o.base + p->p_vaddr);
        if (p->p_type == PT_GNU_RELRO) {
            o.relro_lo = o.base + p->p_vaddr;
            o.relro_hi = o.relro_lo + p->p_memsz;
        }
    }
    if (dyn)
        *total += patch_dynamic(&o, dyn);
    return 0;
}

static long patch_all(void)
{
    long total = 0;

    pthread_mutex_lock(&g_patch_lock);
    dl_iterate_phdr(patch_object, &total);
    pthread_mutex_unlock(&g_patch_lock);
    return total;
}

/* ---- the tracer vanished: undo everything from inside ------------------ */

static bool read_self(uint64_t addr, uint64_t *v)
{
    struct iovec l = { v, sizeof(*v) }, r = { (void *)(uintptr_t)addr, sizeof(*v) };

    return syscall(SYS_process_vm_readv, getpid(), &l, 1ul, &r, 1ul, 0ul) == (long)sizeof(*v);
}

static void restore_all(void)
{
    struct ml_patch_table *t = &memlens_attach_table;

    pthread_mutex_lock(&g_patch_lock);
    for (uint32_t i = 0; i < __atomic_load_n(&t->count, __ATOMIC_ACQUIRE); i++) {
        const struct ml_patch *p = &t->e[i];
        uint64_t cur;
        if (!read_self(p->slot, &cur) || cur != p->hook)
            continue;              /* unloaded since, or rewritten by someone else */
        if (p->relro && !set_writable(p->slot, true))
            continue;
        __atomic_store_n((uint64_t *)(uintptr_t)p->slot, p->orig, __ATOMIC_RELEASE);
        if (p->relro)
            set_writable(p->slot, false);
    }
    t->count = 0;
    pthread_mutex_unlock(&g_patch_lock);
}

/* ---- watcher thread ---------------------------------------------------- */

/* The TracerPid of this process, -1 when it cannot be read. */
static int tracer_pid(void)
{
    char buf[2048];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strstr(buf, "\nTracerPid:");
    return p ? atoi(p + 11) : -1;
}

static int count_loads(struct dl_phdr_info *info, size_t size, void *data)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof(info->dlpi_adds))
        *(unsigned long long *)data = info->dlpi_adds;
    return 1;   /* the counter is the same in every entry: stop at the first */
}

static unsigned long long loads_now(void)
{
    unsigned long long adds = 0;

    dl_iterate_phdr(count_loads, &adds);
    return adds;
}

static bool still_adopted(const struct ml_header *h)
{
    return __atomic_load_n(&h->adopted, __ATOMIC_ACQUIRE) != 0;
}

/* Whether the tracer is gone without detaching: TracerPid reads 0 and (for
 * a tracer in an outer pid namespace, which TracerPid cannot show) its
 * heartbeat in the header has stood still for a second. */
static bool tracer_gone(const struct ml_header *h, uint64_t *beat, unsigned *still)
{
    uint64_t now = __atomic_load_n(&h->tracer_beat, __ATOMIC_ACQUIRE);

    *still = now == *beat ? *still + 1 : 0;
    *beat = now;
    return tracer_pid() == 0 && *still * WATCH_PERIOD_NS >= 1000000000L;
}

static void *watch_main(void *arg)
{
    struct ml_header *h = arg;
    unsigned long long adds = loads_now();
    uint64_t beat = __atomic_load_n(&h->tracer_beat, __ATOMIC_ACQUIRE);
    unsigned still = 0;

    while (still_adopted(h)) {
        nanosleep(&(struct timespec){ 0, WATCH_PERIOD_NS }, NULL);
        if (!still_adopted(h))
            break;
        if (tracer_gone(h, &beat, &still)) {    /* the tracer died without detaching */
            restore_all();
            __atomic_store_n(&h->adopted, 0u, __ATOMIC_RELEASE);
            break;
        }
        unsigned long long now = loads_now();
        if (now != adds) {
            adds = now;
            patch_all();
        }
    }
    /* memlens has let go: nothing of it but the loaded shim may remain.
     * Recording stops first; the session is unmapped DETACH_GRACE_NS later,
     * when a thread that was inside a recorded call as memlens let go has
     * long finished it. */
    ml_rec_detached(h);
    nanosleep(&(struct timespec){ 0, DETACH_GRACE_NS }, NULL);
    pthread_mutex_lock(&g_patch_lock);
    if (g_sess == h) {
        if (g_sess_recorded)
            ml_views_reset(NULL, 0);
        else
            syscall(SYS_munmap, h, ML_SESSION_FIRST);
        g_sess = NULL;
        g_sess_recorded = 0;
    }
    pthread_mutex_unlock(&g_patch_lock);
    __atomic_store_n(&g_watching, 0, __ATOMIC_RELEASE);
    return NULL;
}

static int start_watcher(struct ml_header *h)
{
    pthread_attr_t attr;
    pthread_t th;
    sigset_t all, old;

    if (pthread_attr_init(&attr) != 0)
        return -ENOMEM;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* the program's signals are not ours */
    __atomic_store_n(&g_watching, 1, __ATOMIC_RELEASE);
    int rc = pthread_create(&th, &attr, watch_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        __atomic_store_n(&g_watching, 0, __ATOMIC_RELEASE);
        return -rc;
    }
    pthread_setname_np(th, "memlens-watch");
    return 0;
}

/* ---- session ----------------------------------------------------------- */

static long session_create(uint32_t frames, struct ml_header **out)
{
    struct rlimit rl;
    struct ml_header h;

    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < ML_SESSION_SIZE)
        return -EFBIG;             /* ftruncate would raise SIGXFSZ */
    int fd = (int)syscall(SYS_memfd_create, ML_SESSION_NAME, MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    memset(&h, 0, sizeof(h));
    h.magic = ML_SESSION_MAGIC;
    h.version = ML_SESSION_VERSION;
    h.pid = getpid();
    h.file_size = ML_SESSION_SIZE;
    h.max_frames = frames;
    void *base = MAP_FAILED;
    if (ftruncate(fd, (off_t)ML_SESSION_SIZE) == 0 && pwrite(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h))
        base = (void *)syscall(SYS_mmap, NULL, ML_SESSION_FIRST, PROT_READ | PROT_WRITE,
                               MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        int err = errno;
        close(fd);
        return -err;
    }
    *out = base;
    return fd;
}

/* ---- entry points ------------------------------------------------------ */

ML_EXPORT long memlens_attach_start(unsigned frames)
{
    int err = errno;

    if (__atomic_load_n(&g_watching, __ATOMIC_ACQUIRE))
        return -EBUSY;             /* the previous attach has not ended yet */
    if (g_sess_fd >= 0)
        close(g_sess_fd);
    /* No watcher runs (above): nothing else touches g_sess now. */
    if (g_sess && !still_adopted(g_sess) && !g_sess_recorded)
        syscall(SYS_munmap, g_sess, ML_SESSION_FIRST);  /* a previous attach's, never used */
    else if (g_sess && !still_adopted(g_sess))
        ml_views_reset(NULL, 0);                            /* recorded into: record.c maps it */
    g_sess_recorded = 0;
    g_sess = NULL;
    g_sess_fd = -1;
    memlens_attach_table.count = 0;     /* the previous tracer restored its entries */
    memlens_attach_table.full = 0;
    g_frames = frames == 0 || frames > ML_MAX_FRAMES ? 24u : frames;
    struct ml_header *h;
    long fd = session_create(g_frames, &h);
    if (fd >= 0) {
        g_sess = h;
        g_sess_fd = (int)fd;
    }
    errno = err;
    return fd;
}

ML_EXPORT long memlens_attach_patch(void)
{
    int err = errno;
    long rc;

    if (!g_sess || !still_adopted(g_sess)) {
        rc = -EPROTO;              /* memlens has not adopted the session */
    } else {
        close(g_sess_fd);
        g_sess_fd = -1;
        memlens_attach_table.magic = ML_ATTACH_MAGIC;
        if (!ml_rec_attach(g_sess, g_frames)) {
            rc = -EBUSY;           /* already recording for a run-mode tracer */
        } else {
            g_sess_recorded = 1;
            if ((rc = resolve_hooks()) == 0)
                rc = patch_all();
        }
        if (rc >= 0 && start_watcher(g_sess) != 0)
            rc = -EAGAIN;
    }
    errno = err;
    return rc;
}
