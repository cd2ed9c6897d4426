/* joinedthread.cpp - a clean C++ program with one joined std::thread.
 *
 * Nothing of its own stays allocated: the thread's state is freed by
 * join().  What glibc keeps on purpose is the joined thread's cached stack
 * and the TLS block (DTV) allocated for it in _dl_allocate_tls, pointed at
 * only from inside that stack: without glibc's freeres memcheck calls the
 * DTV possibly lost; with it (the default) nothing is left.
 *
 * Expected answer: with `--leak-check=full --error-exitcode=7`, valgrind and
 * memlens both exit 0; with --run-libc-freeres=no both exit 7 (one possibly
 * lost block).  `joinedthread leak` also drops one malloc(40) block of its
 * own in main (one definitely lost block of 40 bytes): both exit 7.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

static int g_answer;

int main(int argc, char **argv)
{
    std::thread t([] { g_answer = 42; });
    t.join();
    if (argc > 1 && std::strcmp(argv[1], "leak") == 0) {
        void *volatile own = std::malloc(40);
        own = nullptr;
        (void)own;
    }
    std::printf("%d\n", g_answer);
    return 0;
}
