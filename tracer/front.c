/* front.c - the front process and its tracer (see front.h). */
#include "front.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errors.h"

static int to_front = -1;     /* the tracer's end of the pipe; -1 once released */
static int released;
static volatile pid_t tracer_pid;

/* The front passes on what is sent to memlens; what the terminal sends
 * reaches the tracer and the program directly, being in the same group. */
static void forward(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    if ((sig == SIGINT || sig == SIGQUIT) && info->si_code != SI_USER && info->si_code != SI_QUEUE)
        return;
    if (tracer_pid > 0) kill(tracer_pid, sig);
}

static void forward_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

static void front_main(int from_tracer)
{
    forward_signals();
    int status;
    ssize_t n;
    while ((n = read(from_tracer, &status, sizeof status)) < 0 && errno == EINTR) {}
    if (n == (ssize_t)sizeof status) _exit(status);
    int ws;                       /* the tracer ended without releasing: its own status */
    while (waitpid(tracer_pid, &ws, 0) < 0)
        if (errno != EINTR) _exit(ML_EXIT_FAILURE);
    _exit(WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws));
}

int ml_front_split(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        int err = errno;
        ml_error("cannot start: %s", strerror(err));
        return -err;
    }
    pid_t front = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(p[0]);
        close(p[1]);
        ml_error("cannot start: %s", strerror(err));
        return -err;
    }
    if (pid > 0) {
        tracer_pid = pid;
        close(p[1]);
        front_main(p[0]);
    }
    close(p[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != front) _exit(ML_EXIT_FAILURE);     /* the front died before the line above */
    to_front = p[1];
    return 0;
}

int ml_front_release(int status)
{
    if (to_front < 0) return 0;
    prctl(PR_SET_PDEATHSIG, 0);
    while (write(to_front, &status, sizeof status) < 0 && errno == EINTR) {}
    close(to_front);
    to_front = -1;
    released = 1;
    return 1;
}

int ml_front_released(void)
{
    return released;
}
