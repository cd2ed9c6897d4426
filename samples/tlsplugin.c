/* tlsplugin.c - a library with a __thread variable that samples/dyntls
 * loads with dlopen.  Its TLS segment is tls_buf alone: 200 bytes, aligned
 * to 16 (what malloc gives, so ld.so allocates it exactly): each thread that
 * calls tls_touch() gets a 200-byte block of its own, the first time it does.
 */
char __thread tls_buf[200] __attribute__((aligned(16)));

int tls_touch(int v)
{
    tls_buf[0] = (char)(tls_buf[0] + v);
    return tls_buf[0];
}
