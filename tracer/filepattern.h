/* filepattern.h - valgrind's file name patterns (--log-file, --xml-file).
 *
 * In a pattern, %p is the process id, %n a sequence number that makes the
 * name unique among the names expanded so far (1 the first time, as in
 * valgrind), %q{VAR} the value of the environment variable VAR, %% a '%';
 * any other '%' is an error, as is an unset VAR.  Owns the list of names
 * handed out, so that %n never gives one to two processes.
 */
#ifndef ML_FILEPATTERN_H
#define ML_FILEPATTERN_H

/* 0 when pattern expands (its syntax and its variables), else -1 with
 * ml_error saying why: checked when the options are read. */
int ml_file_pattern_check(const char *pattern);

/* 0 when the directory of pattern's files takes new files (or is itself
 * a pattern), else -1 with ml_error "cannot write PATTERN: ...": the early
 * check for names that are only known once the processes run. */
int ml_file_pattern_dir_writable(const char *pattern);

/* Whether pattern names a file per process (it holds %p or %n). */
int ml_file_pattern_per_process(const char *pattern);

/* The file name for process pid, malloc'ed (the same name again for the
 * same pattern and pid); NULL with ml_error set. */
char *ml_expand_file_pattern(const char *pattern, int pid);

#endif
