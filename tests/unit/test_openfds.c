/* test_openfds.c - the descriptor list joins /proc's open set with the shim's records.
 *
 * What /proc says is open is the list; a record names who made each; a
 * close forgets the record; the standard three are counted, not listed,
 * unless reopened; memlens's own are left out; a forked child's inherited
 * ones are named by its parent's records; the newest come first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "memlens/session.h"
#include "openfds.h"

static struct ml_fd_seen seen(int fd, const char *target)
{
    return (struct ml_fd_seen){.fd = fd, .target = (char *)target};
}

static void table_open_close(void **state)
{
    (void)state;
    struct ml_fd_table t = {0};
    assert_int_equal(ml_fd_table_open(&t, 5000, ML_FD_OPEN, 7, 1), 0);   /* grows */
    assert_non_null(ml_fd_table_get(&t, 5000));
    assert_int_equal(ml_fd_table_get(&t, 5000)->stack, 7);
    assert_null(ml_fd_table_get(&t, 4999));
    ml_fd_table_close(&t, 5000);
    assert_null(ml_fd_table_get(&t, 5000));
    ml_fd_table_close(&t, 1 << 20);   /* beyond the table: nothing */
    assert_null(ml_fd_table_get(&t, -1));
    ml_fd_table_free(&t);
}

static void build_list(void **state)
{
    (void)state;
    struct ml_fd_table t = {0};
    ml_fd_table_open(&t, 0, ML_FD_INHERITED, 0, 0);
    ml_fd_table_open(&t, 1, ML_FD_INHERITED, 0, 1);
    ml_fd_table_open(&t, 2, ML_FD_INHERITED, 0, 2);
    ml_fd_table_open(&t, 3, ML_FD_OPEN, 0, 10);
    ml_fd_table_open(&t, 4, ML_FD_PIPE, 0, 11);
    ml_fd_table_open(&t, 1, ML_FD_DUP2, 0, 12);        /* stdout reopened */
    ml_fd_table_open(&t, 900, ML_FD_PIPE2, 0, 13);     /* memlens's (below) */
    ml_fd_table_open(&t, 6, ML_FD_SOCKET, 0, 14);
    ml_fd_table_close(&t, 6);                          /* closed: 6 is not in /proc */
    const struct ml_fd_seen s[] = {seen(0, "/dev/null"), seen(1, "/tmp/out"),
                                   seen(2, "/dev/pts/0"), seen(3, "/etc/passwd"),
                                   seen(4, "pipe:[77]"), seen(5, "anon_inode:[eventfd]"),
                                   seen(900, "pipe:[78]")};
    const int own[] = {900};
    struct ml_fds_input in = {.seen = s, .nseen = 7, .table = &t, .own = own, .nown = 1};
    struct ml_proc_report r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ml_fds_build(&in, &r), 0);
    assert_true(r.have_fds);
    assert_int_equal(r.nfds, 6);                       /* 900 left out */
    assert_int_equal(ml_fds_std(&r), 2);               /* 0 and 2; 1 was reopened */
    /* newest first: 1 (dup2), 4, 3, then the inherited 2, 0, then 5 (no record) */
    const int order[] = {1, 4, 3, 2, 0, 5};
    for (size_t i = 0; i < 6; i++) assert_int_equal(r.fds[i].fd, order[i]);
    assert_string_equal(r.fds[0].function, "dup2");
    assert_false(r.fds[0].std);
    assert_string_equal(r.fds[1].kind, "pipe");
    assert_string_equal(r.fds[2].kind, "file");
    assert_string_equal(r.fds[2].path, "/etc/passwd");
    assert_true(r.fds[3].inherited && r.fds[3].std);
    assert_null(r.fds[5].function);
    assert_false(r.fds[5].inherited);
    assert_string_equal(r.fds[5].kind, "anon");
    ml_proc_report_free(&r);
    ml_fd_table_free(&t);
}

static void forked_child(void **state)
{
    (void)state;
    struct ml_fd_table parent = {0}, child = {0};
    ml_fd_table_open(&parent, 3, ML_FD_SOCKET, 0, 40);
    ml_fd_table_open(&child, 3, ML_FD_INHERITED, 0, 0);  /* the child's session: inherited */
    ml_fd_table_open(&child, 4, ML_FD_OPEN, 0, 5);
    const struct ml_fd_seen s[] = {seen(3, "socket:[9]"), seen(4, "/dev/zero")};
    struct ml_fds_input in = {.seen = s, .nseen = 2, .table = &child, .forked_from = &parent};
    struct ml_proc_report r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ml_fds_build(&in, &r), 0);
    assert_int_equal(r.nfds, 2);
    assert_int_equal(r.fds[0].fd, 4);                    /* by the child's own order */
    assert_string_equal(r.fds[1].function, "socket");    /* named by the parent */
    assert_false(r.fds[1].inherited);
    ml_proc_report_free(&r);
    ml_fd_table_free(&parent);
    ml_fd_table_free(&child);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_open_close),
        cmocka_unit_test(build_list),
        cmocka_unit_test(forked_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
