/* inject.c - a function call inside a traced thread (see inject.h). */
#include "inject.h"

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include "procs.h"

#define RED_ZONE 128u
#define MARGIN 128u            /* below the red zone, before our data */
#define EFLAGS_TF 0x100ull
#define EFLAGS_DF 0x400ull

int ml_inject_begin(struct ml_inject *in, int tid)
{
    memset(in, 0, sizeof *in);
    in->tid = tid;
    if (ptrace(PTRACE_GETREGS, tid, 0, &in->saved) != 0) return -errno;
    struct iovec iov = {in->xstate, sizeof in->xstate};
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) == 0) {
        in->xlen = iov.iov_len;
    } else if (ptrace(PTRACE_GETFPREGS, tid, 0, &in->fp) != 0) {
        return -errno;
    }
    in->scratch = (in->saved.rsp - RED_ZONE - MARGIN) & ~15ull;
    return 0;
}

int ml_inject_put(struct ml_inject *in, const void *data, size_t len, uint64_t *addr)
{
    uint64_t at = (in->scratch - len) & ~15ull;
    struct iovec l = {(void *)data, len}, r = {(void *)at, len};
    if (process_vm_writev(in->tid, &l, 1, &r, 1, 0) != (ssize_t)len) return errno ? -errno : -EFAULT;
    in->scratch = at;
    *addr = at;
    return 0;
}

int ml_inject_end(struct ml_inject *in)
{
    if (in->gone) return -ESRCH;
    if (ptrace(PTRACE_SETREGS, in->tid, 0, &in->saved) != 0) return -errno;
    struct iovec iov = {in->xstate, in->xlen};
    if (in->xlen ? ptrace(PTRACE_SETREGSET, in->tid, (void *)NT_X86_XSTATE, &iov)
                 : ptrace(PTRACE_SETFPREGS, in->tid, 0, &in->fp))
        return -errno;
    return 0;
}

/* Registers for fn(args): return address 0 pushed on a 16-byte aligned stack. */
static int setup_call(struct ml_inject *in, uint64_t fn, const uint64_t *args, int nargs)
{
    struct user_regs_struct r = in->saved;
    uint64_t zero = 0, sp = (in->scratch & ~15ull) - 8;   /* as right after a call */
    struct iovec l = {&zero, 8}, rm = {(void *)sp, 8};
    if (process_vm_writev(in->tid, &l, 1, &rm, 1, 0) != 8) return errno ? -errno : -EFAULT;
    unsigned long long *regs[6] = {&r.rdi, &r.rsi, &r.rdx, &r.rcx, &r.r8, &r.r9};
    for (int i = 0; i < 6; i++) *regs[i] = i < nargs ? args[i] : 0;
    r.rsp = sp;
    r.rip = fn;
    r.rax = 0;                     /* no vector registers for a variadic callee */
    r.orig_rax = (unsigned long long)-1;   /* no syscall restart into the call */
    r.eflags &= ~(EFLAGS_DF | EFLAGS_TF);
    return ptrace(PTRACE_SETREGS, in->tid, 0, &r) == 0 ? 0 : -errno;
}

static double now_s(void)
{
    return ml_now();
}

/* The borrowed thread stopped (status): 1 when the call ended (result in
 * *ret or an error in *rc), 0 when the stop was something else. */
static int call_ended(struct ml_inject *in, int status, uint64_t *ret, int *rc)
{
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        in->gone = 1;
        *rc = -ESRCH;
        return 1;
    }
    int sig = WSTOPSIG(status), event = (unsigned)status >> 16;
    if (event == PTRACE_EVENT_EXIT) {
        in->gone = 1;              /* the process is going away: let it */
        ptrace(PTRACE_CONT, in->tid, 0, 0);
        *rc = -ESRCH;
        return 1;
    }
    if (event != 0) return 0;
    if (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE && sig != SIGABRT &&
        sig != SIGTRAP)
        return 0;
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, in->tid, 0, &r) != 0) {
        *rc = -errno;
        return 1;
    }
    *rc = sig == SIGSEGV && r.rip == 0 ? 0 : -EFAULT;
    *ret = r.rax;
    return 1;
}

/* Wait for the borrowed thread to stop again after PTRACE_INTERRUPT. */
static int interrupt_and_wait(struct ml_inject *in, ml_inject_other_fn other, void *ctx)
{
    ptrace(PTRACE_INTERRUPT, in->tid, 0, 0);
    double deadline = now_s() + 2.0;
    while (now_s() < deadline) {
        int status;
        pid_t w = waitpid(-1, &status, __WALL | WNOHANG);
        if (w < 0 && errno != EINTR) return -errno;
        if (w <= 0) { nanosleep(&(struct timespec){0, 200000}, NULL); continue; }
        if (w != in->tid) { other(w, status, ctx); continue; }
        if (WIFEXITED(status) || WIFSIGNALED(status)) { in->gone = 1; return -ESRCH; }
        return 0;
    }
    return -ETIMEDOUT;
}

int ml_inject_call(struct ml_inject *in, uint64_t fn, const uint64_t *args, int nargs,
                   double timeout, ml_inject_other_fn other, void *ctx, uint64_t *ret)
{
    int rc = setup_call(in, fn, args, nargs);
    if (rc) return rc;
    if (ptrace(PTRACE_CONT, in->tid, 0, 0) != 0) return -errno;
    double deadline = now_s() + timeout;
    long nap = 20000;              /* ns, doubling up to 1 ms */
    for (;;) {
        int status;
        pid_t w = waitpid(-1, &status, __WALL | WNOHANG);
        if (w < 0 && errno != EINTR) return -errno;
        if (w > 0 && w == in->tid && call_ended(in, status, ret, &rc)) return rc;
        if (w > 0) {
            other(w, status, ctx);
            nap = 20000;
            continue;
        }
        if (now_s() > deadline) {
            rc = interrupt_and_wait(in, other, ctx);
            return rc ? rc : -ETIMEDOUT;
        }
        nanosleep(&(struct timespec){0, nap}, NULL);
        if (nap < 1000000) nap *= 2;
    }
}
