/* image.h - what a program file says about how it can run under memlens.
 *
 * Read from the file itself before it runs (the program memlens starts)
 * or from /proc/PID/exe after an exec (the processes it follows): whether
 * it is a 32-bit program, which memlens does not support, and whether it is
 * set-user-ID or set-group-ID to someone else, privileges the kernel does
 * not grant a program started under ptrace. Owns nothing.
 */
#ifndef ML_IMAGE_H
#define ML_IMAGE_H

/* 1 when PATH is a 32-bit ELF file, 0 otherwise (unreadable, 64-bit, a script). */
int ml_image_is_32bit(const char *path);

/* When PATH is set-user-ID or set-group-ID to an id other than the
 * caller's effective one: "set-user-ID root" or "set-group-ID 42" in why,
 * and 1; else 0. */
int ml_image_setid(const char *path, char *why, unsigned long len);

#endif
