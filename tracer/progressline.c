/* progressline.c - the exit analysis's progress line (see progressline.h). */
#include "progressline.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define FIRST_AFTER_NS 1000000000L      /* say nothing for the first second */
/* MEMLENS_PROGRESS_AFTER_MS=N starts the line after N ms instead (the
 * tests' way to see it on an analysis that is over in less than a second). */
#define EVERY_NS 250000000L

static struct ml_progress g_counts;
static pthread_t g_thread;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake;
static int g_watching, g_running, g_stop, g_printed, g_pid;
static struct timespec g_start;

static void add_ns(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static double since_start(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - g_start.tv_sec) + (double)(now.tv_nsec - g_start.tv_nsec) / 1e9;
}

/* 1234567 -> "1,234,567" in buf (32 bytes). */
static const char *commas(unsigned long long v, char *buf)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static void print_line(void)
{
    const char *phase = atomic_load_explicit(&g_counts.phase, memory_order_acquire);
    unsigned long long done = atomic_load_explicit(&g_counts.done, memory_order_relaxed);
    unsigned long long total = atomic_load_explicit(&g_counts.total, memory_order_relaxed);
    char d[32], t[32];
    if (!phase) return;
    if (total && done)
        fprintf(stderr, "\r\033[Kmemlens: pid %d: exit analysis: %s: %s of %s blocks (%.1f s)",
                g_pid, phase, commas(done, d), commas(total, t), since_start());
    else if (total)
        fprintf(stderr, "\r\033[Kmemlens: pid %d: exit analysis: %s, %s blocks (%.1f s)",
                g_pid, phase, commas(total, t), since_start());
    else
        fprintf(stderr, "\r\033[Kmemlens: pid %d: exit analysis: %s (%.1f s)", g_pid, phase,
                since_start());
    fflush(stderr);
    g_printed = 1;
}

static void *run(void *arg)
{
    struct timespec next = g_start;
    (void)arg;
    const char *after = getenv("MEMLENS_PROGRESS_AFTER_MS");
    add_ns(&next, after && *after ? strtol(after, NULL, 10) % 100000 * 1000000L : FIRST_AFTER_NS);
    pthread_mutex_lock(&g_lock);
    while (!g_stop) {
        if (pthread_cond_timedwait(&g_wake, &g_lock, &next) == ETIMEDOUT && !g_stop) {
            print_line();
            add_ns(&next, EVERY_NS);
        }
    }
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

struct ml_progress *ml_progress_now(void)
{
    return g_watching ? &g_counts : NULL;
}

void ml_progress_start(int pid, int quiet)
{
    ml_progress_stop();
    ml_progress_phase(&g_counts, NULL, 0);
    g_watching = 1;
    if (quiet || !isatty(STDERR_FILENO)) return;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_wake, &ca);
    pthread_condattr_destroy(&ca);
    clock_gettime(CLOCK_MONOTONIC, &g_start);
    g_pid = pid;
    g_stop = g_printed = 0;
    g_running = pthread_create(&g_thread, NULL, run, NULL) == 0;
    if (!g_running) pthread_cond_destroy(&g_wake);
}

void ml_progress_stop(void)
{
    g_watching = 0;
    if (!g_running) return;
    pthread_mutex_lock(&g_lock);
    g_stop = 1;
    pthread_cond_signal(&g_wake);
    pthread_mutex_unlock(&g_lock);
    pthread_join(g_thread, NULL);
    pthread_cond_destroy(&g_wake);
    g_running = 0;
    if (g_printed) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}
