/* iostream.cpp - a clean C++ program that writes with std::cout and std::cerr.
 *
 * libstdc++ allocates its emergency exception pool at start and keeps it on
 * purpose; its freeres (__gnu_cxx::__freeres) releases it at exit.
 *
 * Expected answer: with `--leak-check=full --error-exitcode=7`, valgrind and
 * memlens both exit 0 (with --show-leak-kinds=all neither reports a block).
 * `iostream leak` also drops one new char[40] of its own in main (one
 * definitely lost block of 40 bytes): both exit 7.
 */
#include <cstring>
#include <iostream>
#include <string>

int main(int argc, char **argv)
{
    std::string s = "a line longer than the small-string buffer of std::string";
    std::cout << s << std::endl;
    std::cerr << s.size() << '\n';
    if (argc > 1 && std::strcmp(argv[1], "leak") == 0) {
        char *volatile own = new char[40];
        own = nullptr;
        (void)own;
    }
    return 0;
}
