/* image.c - program file checks (see image.h). */
#include "image.h"

#include <elf.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ml_image_is_32bit(const char *path)
{
    unsigned char ident[EI_NIDENT];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, ident, sizeof ident);
    close(fd);
    return n == (ssize_t)sizeof ident && memcmp(ident, ELFMAG, SELFMAG) == 0 &&
           ident[EI_CLASS] == ELFCLASS32;
}

int ml_image_setid(const char *path, char *why, unsigned long len)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    if ((st.st_mode & S_ISUID) && st.st_uid != geteuid()) {
        struct passwd *pw = getpwuid(st.st_uid);
        if (pw) snprintf(why, len, "set-user-ID %s", pw->pw_name);
        else snprintf(why, len, "set-user-ID %u", (unsigned)st.st_uid);
        return 1;
    }
    /* set-group-ID without group execute is mandatory locking, not an id */
    if ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) && st.st_gid != getegid()) {
        struct group *gr = getgrgid(st.st_gid);
        if (gr) snprintf(why, len, "set-group-ID %s", gr->gr_name);
        else snprintf(why, len, "set-group-ID %u", (unsigned)st.st_gid);
        return 1;
    }
    return 0;
}
