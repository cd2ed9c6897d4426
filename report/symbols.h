/* symbols.h - symbolization of code addresses with elfutils libdwfl.
 *
 * A symbolizer is built from the memory map saved at exit (the process may
 * be gone by then) and resolves each distinct address once: function,
 * source file and line, inlined frames, and module path.  It owns every
 * string it returns; they live as long as the symbolizer.
 */
#ifndef ML_SYMBOLS_H
#define ML_SYMBOLS_H

#include <stdint.h>

struct ml_symframe {
    uint64_t address;         /* the address as captured */
    const char *function;     /* demangled when C++; NULL when unknown */
    const char *linkage_name; /* the mangled C++ name ("_ZN3Foo3barEv"); NULL when not C++ */
    const char *file;         /* source file (full path as in DWARF); NULL when unknown */
    int line;                 /* 0 when unknown */
    const char *module;       /* absolute path of the object; NULL when unknown */
    int inlined;              /* 1 for a frame inlined into the next one */
    const char *aliases[2];   /* other names of the function: the symbol libdwfl
                                 found at the address, the DWARF name; NULL when
                                 the same as function */
};

struct ml_symbolizer;

/* maps_text: /proc/PID/maps as saved at exit. pid is used only for the vDSO
 * and may be 0.  Returns NULL and sets errno on failure. */
struct ml_symbolizer *ml_symbolizer_new(const char *maps_text, int pid);
void ml_symbolizer_free(struct ml_symbolizer *s);
/* Resolve one address.  return_address: 1 when addr is a return address
 * (then addr-1 is looked up, as a call site).  Writes up to max frames,
 * inlined ones first and the containing function last; returns the count
 * (at least 1: an unknown address gives one frame with NULL function). */
int ml_symbolize(struct ml_symbolizer *s, uint64_t addr, int return_address,
                 struct ml_symframe *out, int max);

/* Address of the function or variable `name` (as in the symbol table: mangled) defined
 * in the loaded object whose file name is module_base, or 0; *module gets
 * that object's path (owned by s). */
uint64_t ml_symbol_address(struct ml_symbolizer *s, const char *module_base, const char *name,
                           const char **module);

#endif
