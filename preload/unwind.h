/* unwind.h - the shim's fast stack walker (x86-64).
 *
 * unwind.c walks the program's frames with the call-frame rules of each
 * object's .eh_frame (the rules libunwind follows), keeping per return
 * address only what a walk needs: where the CFA is (rsp or rbp plus an
 * offset) and where rbp was saved.  Those rules live in one table shared by
 * all threads, filled on first use of each return address; a walk is then a
 * load and two reads per frame.  Whatever the walker does not model (signal
 * frames, code without unwind information, DWARF expressions, a return
 * address that is not at CFA-8) makes it answer "not mine": the caller then
 * uses libunwind for the whole stack, so the frames are always libunwind's.
 */
#ifndef MEMLENS_PRELOAD_UNWIND_H
#define MEMLENS_PRELOAD_UNWIND_H

#include <stdint.h>

/* The registers of a frame: ip is a return address (a call site + 1). */
struct ml_frame_regs {
    uint64_t ip, sp, bp;
};

/* The frame layout of a walk: where each frame's CFA was, relative to the
 * first frame's rsp.  The shim keeps one per pair of first return addresses
 * (stacks.c).  A walk given a layout for its first return address guesses
 * it: it reads the return addresses of all frames at once (the reads no
 * longer wait for each other) and only checks, frame by frame, that the
 * rules give the guessed CFAs; from the first frame that differs it goes on
 * frame by frame.  A guess is only a guess: a stale one costs time, never
 * a wrong frame. */
#define ML_GUESS_FRAMES 32u
struct ml_walk_guess {
    uint64_t ip0, ip1;               /* the first two return addresses */
    uint64_t ver;                    /* 0 after any change (the owner numbers layouts) */
    uint32_t n;                      /* frames of the walk the layout comes from */
    uint32_t max;                    /* that walk's frame limit */
    uint32_t whole;                  /* 1: rel[] holds every frame of that walk, all
                                      * CFAs rsp-based: the layout is a function of
                                      * the return addresses alone */
    uint32_t pad;
    uint32_t rel[ML_GUESS_FRAMES];   /* CFA of frame k minus the first rsp */
};

/* The rule for the frame whose return address is ip: when its CFA is rsp
 * plus a constant, returns 1 and sets *off; 0 otherwise (anything else). */
int ml_unwind_rsp_frame(uint64_t ip, uint32_t *off);

/* Walk from r (the caller of the shim): out[0] = r.ip, then each caller's
 * return address, at most max entries, stopping after the outermost frame.
 * guess (may be NULL) is used when its ip0 is r->ip, and is rewritten with
 * this walk's layout; a guessed address is read only inside [lo, hi), the
 * calling thread's stack, and only when r->sp is in it too (a program
 * running on a stack of its own making is walked frame by frame).
 * Returns the depth, or -1 when some frame needs the full unwinder. */
int ml_unwind_walk(const struct ml_frame_regs *r, uint64_t *out, uint32_t max,
                   struct ml_walk_guess *guess, uint64_t lo, uint64_t hi);

/* Forget every rule (objects were unloaded: addresses may be reused);
 * ml_unwind_epoch() changes then, and layouts kept by callers are stale. */
void ml_unwind_flush(void);
uint32_t ml_unwind_epoch(void);

#endif
