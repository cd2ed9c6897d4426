/* stalereuse.cpp - a new block that holds an old block's pointers.
 *
 * lose_owners() fills a vector<Owner *> (its buffer: new(32), reserved so
 * that no smaller buffer comes first) with four new Owner (24 bytes each)
 * and lets the vector go: the buffer is freed, the Owners are lost.
 * keep_text() then reserves 39 characters in *g_text (a std::string made
 * first, new(32), held by a global): new(40),
 * the same glibc bin as the freed 32-byte buffer, which glibc hands out
 * again at once.  The string writes only "x" and its NUL; the bytes it
 * never wrote still hold the vector's pointers to Owners 2 and 3.
 *
 * Expected answer (memcheck: its allocator does not reuse the buffer, and
 * it ignores bytes never written):
 *   definitely lost   4 blocks   96 bytes   the four Owners
 *   indirectly lost   0
 *   possibly lost     0
 *   still reachable   2 blocks   72 bytes   *g_text (32) and its buffer (40)
 * (libstdc++'s emergency pool is released at exit by both tools.)
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0", "no-inline")
#endif
#include <cstring>
#include <string>
#include <vector>

#include "scrub.h"

struct Owner {
    long id, weight, spare;     /* 24 bytes */
};

std::string *g_text;

__attribute__((noinline)) static void lose_owners()
{
    std::vector<Owner *> v;
    v.reserve(4);
    for (long i = 0; i < 4; i++)
        v.push_back(new Owner{i, 2 * i, 0});
}

__attribute__((noinline)) static void keep_text()
{
    g_text->reserve(39);
    *g_text = "x";
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        static const unsigned long k[8] = {4, 96, 0, 0, 0, 0, 2, 72};
        return expect_kinds(k);
    }
    g_text = new std::string;   /* first: its 32 bytes must not take the vector's bin */
    lose_owners();
    keep_text();
    scrub_stack();
    return 0;
}
