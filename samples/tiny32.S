/* tiny32.S - a 32-bit (i386) program that exits 0 at once, with no libc.
 *
 * Expected answer: memlens refuses it before it runs, with
 * "32-bit programs are not supported" and exit status 125 (memlens
 * records the allocations of x86-64 programs only); natively it exits 0.
 * Built with `cc -m32 -nostdlib -static`, which needs only binutils.
 */
    .globl _start
_start:
    movl $1, %eax       /* exit */
    movl $0, %ebx       /* status 0 */
    int $0x80
