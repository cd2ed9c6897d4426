/* allocfns.c - the known allocation wrappers (see allocfns.h). */
#include <stddef.h>

#include "allocfns.h"

const char *const ml_known_alloc_fns[] = {
    /* gnulib, coreutils, bash, git */
    "xmalloc", "xcalloc", "xrealloc", "xzalloc", "xnmalloc", "xcharalloc",
    "xstrdup", "xmemdup", "x2realloc", "x2nrealloc", "xreallocarray",
    "sh_xmalloc", "sh_xrealloc", "xmallocz", "xmemdupz", "xstrndup",
    /* GLib (g_new, g_new0 and g_renew expand to the _n forms) */
    "g_malloc", "g_malloc0", "g_realloc", "g_malloc_n", "g_malloc0_n", "g_realloc_n",
    "g_try_malloc", "g_try_malloc0", "g_try_realloc", "g_try_malloc_n",
    "g_try_malloc0_n", "g_try_realloc_n", "g_strdup", "g_strndup", "g_memdup",
    "g_memdup2", "g_slice_alloc", "g_slice_alloc0",
    /* PHP, and other e-prefixed wrappers */
    "emalloc", "ecalloc", "erealloc", "safe_malloc",
    /* CPython's allocator entry points */
    "PyMem_RawMalloc", "PyMem_RawCalloc", "PyMem_RawRealloc", "_PyMem_RawMalloc",
    "_PyMem_RawCalloc", "_PyMem_RawRealloc", "PyMem_Malloc", "PyMem_Calloc",
    "PyMem_Realloc", "_PyMem_DebugRawAlloc", "PyObject_Malloc", "PyObject_Calloc",
    "PyObject_Realloc", "_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc",
    NULL
};
