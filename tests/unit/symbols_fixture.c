/* symbols_fixture.c - code with known source lines for test_symbols.
 *
 * Each function returns a return address taken inside it by a noinline
 * probe, and stores the source line of that call in a global (the __LINE__
 * sits on the same line as the call).  The work after each call keeps the
 * compiler from turning it into a tail call, so the return address really
 * lies in the function that made the call, also at -O2.
 */
volatile int fixture_sink;
int fixture_plain_line;    /* the probe call in fixture_plain */
int fixture_inner_line;    /* the probe call in fixture_inner (inlined) */
int fixture_outer_line;    /* the call of fixture_inner in fixture_outer */

__attribute__((noinline)) void *fixture_probe(void)
{
    void *ra = __builtin_return_address(0);
    __asm__ volatile("" : "+r"(ra));
    return ra;
}

__attribute__((noinline)) void *fixture_plain(void)
{
    void *ra = fixture_probe(); fixture_plain_line = __LINE__;
    fixture_sink++;
    return ra;
}

static inline __attribute__((always_inline)) void *fixture_inner(int k)
{
    void *ra = fixture_probe(); fixture_inner_line = __LINE__;
    fixture_sink += k;
    return ra;
}

__attribute__((noinline)) void *fixture_outer(int k)
{
    void *ra = fixture_inner(k); fixture_outer_line = __LINE__;
    fixture_sink ^= k;
    return ra;
}
