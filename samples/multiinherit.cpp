/* multiinherit.cpp - an object kept only through its second base.
 *
 * C derives from A and B, each with one virtual function and no virtual
 * destructor; g_b = new C (32 bytes: A's vtable pointer and field, then
 * B's) holds the address of the B part, 16 bytes into the block.
 *
 * memcheck's multiple-inheritance heuristic accepts such an interior
 * pointer when the block's first word and the word it points at both look
 * like vtables: among the first words of the table, two non-NULL code
 * addresses before any other non-NULL word.  C's primary table holds one
 * function (A::f) and then the secondary table's offset-to-top (-16),
 * which is no code address: the test fails, and the block stays possibly
 * lost.  Expected answer:
 *   definitely lost   0
 *   indirectly lost   0
 *   possibly lost     1 block    32 bytes   the C object
 *   still reachable   0
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0", "no-inline")
#endif
#include <cstring>

#include "scrub.h"

struct A { virtual void f() {} long a = 1; };
struct B { virtual void g() {} long b = 2; };
struct C : A, B { };

B *g_b;

__attribute__((noinline)) static void keep_second_base()
{
    g_b = new C;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        static const unsigned long k[8] = {0, 0, 0, 0, 1, 32, 0, 0};
        return expect_kinds(k);
    }
    keep_second_base();
    scrub_stack();
    return 0;
}
