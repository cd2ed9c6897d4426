/* exitthreads.c - main returns while four threads still run: three of them
 * allocate and free without pause, one waits in pause().
 *
 * At exit memcheck's freeres runs while those threads are held where they
 * are; it must not wait for them (a thread stopped inside malloc holds only
 * its own arena's lock: each allocating thread has one).  Nothing of the
 * program's own is left; each thread alive at exit keeps its TLS block
 * (DTV) from _dl_allocate_tls, pointed at only from inside its stack.
 *
 * Expected answer: possibly lost 4 blocks (one DTV per live thread, of the
 * size glibc gives them), nothing definitely or indirectly lost; exit 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ALLOCATING_THREADS 3

static void *churn(void *arg)
{
    (void)arg;
    for (;;)
        free(malloc(64));
    return NULL;
}

static void *wait_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    pthread_t t;
    for (int i = 0; i < ALLOCATING_THREADS; i++)
        pthread_create(&t, NULL, churn, NULL);
    pthread_create(&t, NULL, wait_forever, NULL);
    usleep(20000);
    printf("returning from main\n");
    return 0;
}
