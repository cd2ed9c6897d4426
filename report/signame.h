/* signame.h - the "SIGSEGV" name of a signal number, for the renderers.
 *
 * Header-only: glibc >= 2.32 has sigabbrev_np (needs _GNU_SOURCE before
 * the first libc header); otherwise a table of the Linux signals is used.
 * The name is written into the caller's buffer; nothing is owned.
 */
#ifndef ML_SIGNAME_H
#define ML_SIGNAME_H

#include <signal.h>
#include <stdio.h>
#include <string.h>

static inline const char *ml_signal_name(int sig, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    const char *abbrev = sigabbrev_np(sig);
#else
    static const char *const names[] = {
        NULL, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
        "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT",
        "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
        "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    };
    const char *abbrev = sig > 0 && (size_t)sig < sizeof names / sizeof *names
                         ? names[sig] : NULL;
#endif
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
#ifdef SIGRTMIN
    else if (sig == SIGRTMIN)
        snprintf(buf, len, "SIGRTMIN");
    else if (sig > SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
#endif
    else
        snprintf(buf, len, "SIG%d", sig);
    return buf;
}

#endif
