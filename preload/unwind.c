/* unwind.c - fast x86-64 stack walks from .eh_frame rules (see unwind.h).
 *
 * A rule says how to get from a frame to its caller's: CFA = rsp or rbp of
 * the frame plus an offset; the return address is at CFA-8; rbp is either
 * unchanged or saved at CFA plus a multiple of 8; the caller's rsp is the
 * CFA.  That is the shape of nearly every frame compilers emit (libunwind's
 * fast trace handles the same shape), and it fits in 32 bits.
 *
 * Rules are found the way libunwind finds them: the object containing
 * ip - 1 (dl_iterate_phdr), its .eh_frame_hdr binary search table, the FDE
 * and its CIE, and the CFA program run up to and including ip - 1 (a return
 * address belongs to the call before it).  They are kept in a direct-mapped
 * table of 64-bit words shared by every thread: the upper half is ip >> 15,
 * the lower half the rule; the index mixes the low bits, so the word and
 * its index name exactly one ip.  A word is written with one store, so a
 * reader sees a whole rule or none; a lost race costs one more lookup.
 *
 * Owns: the rule table.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unwind.h"

#include <link.h>
#include <stddef.h>
#include <string.h>

#include "shim.h"

#define SLOT_BITS 15u
#define SLOT_MASK ((1u << SLOT_BITS) - 1u)
#define IP_LIMIT  (1ull << 47)        /* user-space addresses only */

/* Rule word, lower 32 bits:
 *   bits 0-1   kind
 *   bit  2     CFA is based on rbp (else rsp)
 *   bits 3-10  k (int8): rbp saved at CFA + 8k; 0 = rbp unchanged
 *   bits 11-31 CFA offset (signed, 21 bits) */
enum { R_EMPTY = 0, R_STD = 1, R_LAST = 2, R_FULL = 3 };
#define R_BP_CFA  4u
#define R_OFF_MIN (-(1 << 20))
#define R_OFF_MAX ((1 << 20) - 1)

static uint64_t g_rules[1u << SLOT_BITS];

static inline uint32_t slot_of(uint64_t ip)
{
    return (uint32_t)(ip ^ (ip >> SLOT_BITS) ^ (ip >> (2 * SLOT_BITS))) & SLOT_MASK;
}

static uint32_t g_epoch;

void ml_unwind_flush(void)
{
    for (uint32_t i = 0; i <= SLOT_MASK; i++)
        __atomic_store_n(&g_rules[i], 0, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_epoch, 1, __ATOMIC_RELEASE);
}

uint32_t ml_unwind_epoch(void)
{
    return __atomic_load_n(&g_epoch, __ATOMIC_ACQUIRE);
}

/* ---- reading DWARF ----------------------------------------------------- */

struct rd {
    const uint8_t *p, *end;
    int bad;
};

static uint64_t rd_fixed(struct rd *r, unsigned n)
{
    uint64_t v = 0;

    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, n);   /* little-endian */
    r->p += n;
    return v;
}

static uint64_t rd_uleb(struct rd *r)
{
    uint64_t v = 0;
    unsigned shift = 0;

    while (!r->bad) {
        if (r->p >= r->end || shift > 63) {
            r->bad = 1;
            break;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static int64_t rd_sleb(struct rd *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;

    while (!r->bad) {
        if (r->p >= r->end || shift > 63) {
            r->bad = 1;
            return 0;
        }
        b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~0ull << shift;
    return (int64_t)v;
}

#define PE_OMIT 0xffu

/* A pointer in encoding enc (DW_EH_PE_*); datarel is the base for
 * DW_EH_PE_datarel (0: not allowed here). */
static uint64_t rd_enc(struct rd *r, uint8_t enc, uint64_t datarel)
{
    uint64_t at = (uint64_t)(uintptr_t)r->p, v;

    switch (enc & 0x0f) {
    case 0x00: v = rd_fixed(r, 8); break;
    case 0x01: v = rd_uleb(r); break;
    case 0x02: v = rd_fixed(r, 2); break;
    case 0x03: v = rd_fixed(r, 4); break;
    case 0x04: v = rd_fixed(r, 8); break;
    case 0x09: v = (uint64_t)rd_sleb(r); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_fixed(r, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_fixed(r, 4); break;
    case 0x0c: v = rd_fixed(r, 8); break;
    default: r->bad = 1; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += at; break;                       /* pcrel */
    case 0x30:                                       /* datarel */
        if (!datarel) r->bad = 1;
        v += datarel;
        break;
    default: r->bad = 1; break;
    }
    if (enc & 0x80)                                  /* indirect */
        r->bad = 1;
    return v;
}

/* ---- finding the FDE --------------------------------------------------- */

struct find {
    uint64_t pc;
    const uint8_t *hdr;   /* .eh_frame_hdr of the object containing pc */
    int in_object;
};

static int find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct find *f = arg;
    const uint8_t *hdr = NULL;
    int found = 0;

    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && f->pc >= a && f->pc < a + ph->p_memsz)
            found = 1;
        else if (ph->p_type == PT_GNU_EH_FRAME)
            hdr = (const uint8_t *)(uintptr_t)a;
    }
    if (!found)
        return 0;
    f->in_object = 1;
    f->hdr = hdr;
    return 1;
}

/* The FDE covering pc, or NULL. */
static const uint8_t *find_fde(uint64_t pc)
{
    struct find f = { pc, NULL, 0 };

    if (!dl_iterate_phdr(find_cb, &f) || !f.hdr)
        return NULL;
    const uint8_t *h = f.hdr;
    if (h[0] != 1 || h[3] != 0x3b)   /* version 1, table of datarel sdata4 pairs */
        return NULL;
    struct rd r = { h + 4, h + 4 + 32, 0 };
    uint64_t base = (uint64_t)(uintptr_t)h;
    if (h[1] == PE_OMIT || h[2] == PE_OMIT)
        return NULL;
    rd_enc(&r, h[1], base);                     /* eh_frame_ptr: unused */
    uint64_t count = rd_enc(&r, h[2], base);
    if (r.bad || count == 0)
        return NULL;
    const int32_t *tab = (const int32_t *)(uintptr_t)r.p;
    uint64_t lo = 0, hi = count;                /* last entry with start <= pc */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (base + (uint64_t)(int64_t)tab[2 * mid] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if (base + (uint64_t)(int64_t)tab[2 * lo] > pc)
        return NULL;
    return (const uint8_t *)(uintptr_t)(base + (uint64_t)(int64_t)tab[2 * lo + 1]);
}

/* ---- running the CFA program ------------------------------------------- */

enum how { H_SAME, H_OFFSET, H_UNDEF, H_OTHER };

struct cfi_row {
    uint32_t cfa_reg;
    int cfa_expr;
    int64_t cfa_off;
    uint8_t bp_how, ra_how;
    int64_t bp_off, ra_off;
};

struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    int has_z, signal;
    const uint8_t *insns, *insns_end;
};

#define REG_RBP 6u
#define REG_RSP 7u
#define STATE_DEPTH 8

struct cfi_run {
    const struct cie *cie;
    uint64_t loc, target;
    struct cfi_row row, init;
    struct cfi_row saved[STATE_DEPTH];
    int nsaved;
};

static void set_reg(struct cfi_run *c, uint64_t reg, enum how how, int64_t off)
{
    if (reg == REG_RBP) {
        c->row.bp_how = (uint8_t)how;
        c->row.bp_off = off;
    } else if (reg == c->cie->ra_reg) {
        c->row.ra_how = (uint8_t)how;
        c->row.ra_off = off;
    }
}

static void restore_reg(struct cfi_run *c, uint64_t reg)
{
    if (reg == REG_RBP) {
        c->row.bp_how = c->init.bp_how;
        c->row.bp_off = c->init.bp_off;
    } else if (reg == c->cie->ra_reg) {
        c->row.ra_how = c->init.ra_how;
        c->row.ra_off = c->init.ra_off;
    }
}

/* Advance the location; 1 when it passed the target (stop there). */
static int advance(struct cfi_run *c, uint64_t delta)
{
    uint64_t next = c->loc + delta * c->cie->code_align;

    if (next > c->target)
        return 1;
    c->loc = next;
    return 0;
}

/* Run instructions [p, end); 0 when done, -1 on what we do not model. */
static int run(struct cfi_run *c, const uint8_t *p, const uint8_t *end)
{
    struct rd r = { p, end, 0 };
    const struct cie *cie = c->cie;

    while (r.p < r.end && !r.bad) {
        uint8_t op = *r.p++;
        uint64_t reg;
        switch (op >> 6) {
        case 1:                                          /* advance_loc */
            if (advance(c, op & 0x3f)) return 0;
            continue;
        case 2:                                          /* offset */
            set_reg(c, op & 0x3f, H_OFFSET, (int64_t)rd_uleb(&r) * cie->data_align);
            continue;
        case 3:                                          /* restore */
            restore_reg(c, op & 0x3f);
            continue;
        }
        switch (op) {
        case 0x00: break;                                /* nop */
        case 0x01: {                                     /* set_loc */
            uint64_t to = rd_enc(&r, cie->fde_enc, 0);
            if (r.bad) return -1;
            if (to > c->target) return 0;
            c->loc = to;
            break;
        }
        case 0x02: if (advance(c, rd_fixed(&r, 1))) return 0; break;
        case 0x03: if (advance(c, rd_fixed(&r, 2))) return 0; break;
        case 0x04: if (advance(c, rd_fixed(&r, 4))) return 0; break;
        case 0x05:                                       /* offset_extended */
            reg = rd_uleb(&r);
            set_reg(c, reg, H_OFFSET, (int64_t)rd_uleb(&r) * cie->data_align);
            break;
        case 0x06: restore_reg(c, rd_uleb(&r)); break;   /* restore_extended */
        case 0x07: set_reg(c, rd_uleb(&r), H_UNDEF, 0); break;
        case 0x08: set_reg(c, rd_uleb(&r), H_SAME, 0); break;
        case 0x09:                                       /* register */
            reg = rd_uleb(&r);
            rd_uleb(&r);
            set_reg(c, reg, H_OTHER, 0);
            break;
        case 0x0a:                                       /* remember_state */
            if (c->nsaved == STATE_DEPTH) return -1;
            c->saved[c->nsaved++] = c->row;
            break;
        case 0x0b:                                       /* restore_state */
            if (c->nsaved == 0) return -1;
            c->row = c->saved[--c->nsaved];
            break;
        case 0x0c:                                       /* def_cfa */
            c->row.cfa_reg = (uint32_t)rd_uleb(&r);
            c->row.cfa_off = (int64_t)rd_uleb(&r);
            c->row.cfa_expr = 0;
            break;
        case 0x0d:                                       /* def_cfa_register */
            c->row.cfa_reg = (uint32_t)rd_uleb(&r);
            break;
        case 0x0e:                                       /* def_cfa_offset */
            c->row.cfa_off = (int64_t)rd_uleb(&r);
            break;
        case 0x0f: {                                     /* def_cfa_expression */
            uint64_t len = rd_uleb(&r);
            if (r.bad || len > (uint64_t)(r.end - r.p)) return -1;
            r.p += len;
            c->row.cfa_expr = 1;
            break;
        }
        case 0x10:                                       /* expression */
        case 0x16: {                                     /* val_expression */
            reg = rd_uleb(&r);
            uint64_t len = rd_uleb(&r);
            if (r.bad || len > (uint64_t)(r.end - r.p)) return -1;
            r.p += len;
            set_reg(c, reg, H_OTHER, 0);
            break;
        }
        case 0x11:                                       /* offset_extended_sf */
            reg = rd_uleb(&r);
            set_reg(c, reg, H_OFFSET, rd_sleb(&r) * cie->data_align);
            break;
        case 0x12:                                       /* def_cfa_sf */
            c->row.cfa_reg = (uint32_t)rd_uleb(&r);
            c->row.cfa_off = rd_sleb(&r) * cie->data_align;
            c->row.cfa_expr = 0;
            break;
        case 0x13:                                       /* def_cfa_offset_sf */
            c->row.cfa_off = rd_sleb(&r) * cie->data_align;
            break;
        case 0x14:                                       /* val_offset */
            reg = rd_uleb(&r);
            rd_uleb(&r);
            set_reg(c, reg, H_OTHER, 0);
            break;
        case 0x15:                                       /* val_offset_sf */
            reg = rd_uleb(&r);
            rd_sleb(&r);
            set_reg(c, reg, H_OTHER, 0);
            break;
        case 0x2e: rd_uleb(&r); break;                   /* GNU_args_size */
        case 0x2f:                                       /* GNU_negative_offset_extended */
            reg = rd_uleb(&r);
            set_reg(c, reg, H_OFFSET, -(int64_t)rd_uleb(&r) * cie->data_align);
            break;
        default:
            return -1;
        }
    }
    return r.bad ? -1 : 0;
}

/* ---- CIE and FDE ------------------------------------------------------- */

/* Read an entry's length; r is left at the id field, *end past the entry. */
static int entry_span(const uint8_t *at, struct rd *r, const uint8_t **end)
{
    r->p = at;
    r->end = at + 12;
    r->bad = 0;
    uint64_t len = rd_fixed(r, 4);
    if (len == 0xffffffffu)
        len = rd_fixed(r, 8);
    if (r->bad || len == 0 || len > (1u << 24))
        return -1;
    *end = r->p + len;
    r->end = *end;
    return 0;
}

static int parse_cie(const uint8_t *at, struct cie *cie)
{
    struct rd r;
    const uint8_t *end;

    memset(cie, 0, sizeof(*cie));
    cie->fde_enc = 0;   /* absptr */
    if (entry_span(at, &r, &end) != 0 || rd_fixed(&r, 4) != 0)
        return -1;
    uint64_t version = rd_fixed(&r, 1);
    if (r.bad || (version != 1 && version != 3))
        return -1;
    const char *aug = (const char *)r.p;
    size_t alen = strnlen(aug, (size_t)(r.end - r.p));
    if (alen == (size_t)(r.end - r.p))
        return -1;
    r.p += alen + 1;
    if (aug[0] && aug[0] != 'z')     /* "eh" and other old forms */
        return -1;
    cie->code_align = rd_uleb(&r);
    cie->data_align = rd_sleb(&r);
    cie->ra_reg = version == 1 ? rd_fixed(&r, 1) : rd_uleb(&r);
    if (aug[0] == 'z') {
        cie->has_z = 1;
        uint64_t zlen = rd_uleb(&r);
        if (r.bad || zlen > (uint64_t)(r.end - r.p))
            return -1;
        struct rd z = { r.p, r.p + zlen, 0 };
        for (size_t i = 1; i < alen && !z.bad; i++) {
            uint8_t enc;
            switch (aug[i]) {
            case 'L': rd_fixed(&z, 1); break;
            case 'R': cie->fde_enc = (uint8_t)rd_fixed(&z, 1); break;
            case 'P':
                enc = (uint8_t)rd_fixed(&z, 1);
                rd_enc(&z, enc & 0x7f, 0);   /* indirect or not: only skipped */
                break;
            case 'S': cie->signal = 1; break;
            default: return -1;
            }
        }
        if (z.bad)
            return -1;
        r.p += zlen;
    }
    if (r.bad || cie->code_align == 0)
        return -1;
    cie->insns = r.p;
    cie->insns_end = end;
    return 0;
}

/* The rule for a frame whose return address is ip (R_FULL when the walker
 * cannot model it). */
static uint32_t compute_rule(uint64_t ip)
{
    uint64_t pc = ip - 1;
    const uint8_t *fde = find_fde(pc);
    struct rd r;
    const uint8_t *end;
    struct cie cie;

    if (!fde || entry_span(fde, &r, &end) != 0)
        return R_FULL;
    const uint8_t *id_at = r.p;
    uint32_t cie_off = (uint32_t)rd_fixed(&r, 4);
    if (r.bad || cie_off == 0 || parse_cie(id_at - cie_off, &cie) != 0 || cie.signal)
        return R_FULL;
    uint64_t start = rd_enc(&r, cie.fde_enc, 0);
    uint64_t range = rd_enc(&r, cie.fde_enc & 0x0f, 0);
    if (cie.has_z) {
        uint64_t zlen = rd_uleb(&r);
        if (r.bad || zlen > (uint64_t)(r.end - r.p))
            return R_FULL;
        r.p += zlen;
    }
    if (r.bad || pc < start || pc - start >= range)
        return R_FULL;

    struct cfi_run c;
    memset(&c, 0, sizeof(c));
    c.cie = &cie;
    c.loc = start;
    c.target = pc;
    c.row.cfa_reg = UINT32_MAX;
    c.row.bp_how = H_SAME;
    c.row.ra_how = H_SAME;
    c.init = c.row;
    if (run(&c, cie.insns, cie.insns_end) != 0)
        return R_FULL;
    c.init = c.row;
    c.loc = start;
    c.nsaved = 0;
    if (run(&c, r.p, end) != 0)
        return R_FULL;

    const struct cfi_row *w = &c.row;
    if (w->ra_how == H_UNDEF)
        return R_LAST;
    if (w->ra_how != H_OFFSET || w->ra_off != -8 || w->cfa_expr ||
        (w->cfa_reg != REG_RSP && w->cfa_reg != REG_RBP) ||
        w->cfa_off < R_OFF_MIN || w->cfa_off > R_OFF_MAX)
        return R_FULL;
    int32_t k = 0;
    if (w->bp_how == H_OFFSET) {
        if (w->bp_off % 8 != 0 || w->bp_off / 8 < -128 || w->bp_off / 8 > 127 || w->bp_off == 0)
            return R_FULL;
        k = (int32_t)(w->bp_off / 8);
    } else if (w->bp_how != H_SAME) {
        return R_FULL;
    }
    return R_STD | (w->cfa_reg == REG_RBP ? R_BP_CFA : 0) |
           ((uint32_t)(uint8_t)(int8_t)k << 3) | ((uint32_t)w->cfa_off << 11);
}

static __attribute__((noinline)) uint32_t rule_fill(uint64_t *slot, uint64_t ip)
{
    uint32_t rule = compute_rule(ip);

    __atomic_store_n(slot, (ip >> SLOT_BITS) << 32 | rule, __ATOMIC_RELAXED);
    return rule;
}

static inline __attribute__((always_inline)) uint32_t rule_of(uint64_t ip)
{
    uint64_t *slot = &g_rules[slot_of(ip)];
    uint64_t w = __atomic_load_n(slot, __ATOMIC_RELAXED);

    if (ML_LIKELY((w >> 32) == (ip >> SLOT_BITS) && (uint32_t)w != R_EMPTY))
        return (uint32_t)w;
    return rule_fill(slot, ip);
}

/* ---- the walk ---------------------------------------------------------- */

int ml_unwind_rsp_frame(uint64_t ip, uint32_t *off)
{
    if (ip >= IP_LIMIT || ip < 0x4000)
        return 0;
    uint32_t rule = rule_of(ip);
    int32_t o = (int32_t)rule >> 11;
    if ((rule & 3u) != R_STD || (rule & R_BP_CFA) || o < 8)
        return 0;
    *off = (uint32_t)o;
    return 1;
}

/* One frame: its CFA and where rbp was saved (k, 0 = not) from the rule for
 * ip.  Returns the rule's kind. */
static inline __attribute__((always_inline)) uint32_t
frame_cfa(uint64_t ip, uint64_t sp, uint64_t bp, uint64_t *cfa, int8_t *k, int *bp_based)
{
    uint32_t rule = rule_of(ip);

    *bp_based = (rule & R_BP_CFA) != 0;
    *cfa = (*bp_based ? bp : sp) + (uint64_t)(int64_t)((int32_t)rule >> 11);
    *k = (int8_t)(rule >> 3);
    return rule & 3u;
}

static inline int bad_ip(uint64_t ip)
{
    return ip >= IP_LIMIT || ip < 0x4000;
}

int ml_unwind_walk(const struct ml_frame_regs *r, uint64_t *out, uint32_t max,
                   struct ml_walk_guess *g, uint64_t lo, uint64_t hi)
{
    const uint64_t sp0 = r->sp;
    uint64_t ip = r->ip, sp = sp0, bp = r->bp, cfa;
    uint32_t d = 0, kind, n = 0;
    int8_t k;
    int bp_based, rsp_only = 1, changed = 0;

    if (bad_ip(ip))
        return -1;
    if (g && g->ip0 == ip && sp0 >= lo && sp0 < hi)
        n = g->n < max ? g->n : max;
    /* Guessed layout: the next return address is read at the guessed CFA
     * before the rule is known; the check after it makes that read the one
     * the rule calls for. */
    for (; d < n; d++) {
        uint64_t want = sp0 + g->rel[d];
        if (want > hi || g->rel[d] < 8)
            break;
        uint64_t next = *(const uint64_t *)(uintptr_t)(want - 8);
        out[d] = ip;
        kind = frame_cfa(ip, sp, bp, &cfa, &k, &bp_based);
        if (kind != R_STD || cfa != want)
            goto one_by_one;   /* frame d as without a guess */
        rsp_only &= !bp_based;
        if (k)
            bp = *(const uint64_t *)(uintptr_t)(cfa + 8 * (int64_t)k);
        sp = cfa;
        ip = next;
        if (d + 1 < max && bad_ip(ip))
            return -1;
    }
    while (d < max) {
        out[d] = ip;
        kind = frame_cfa(ip, sp, bp, &cfa, &k, &bp_based);
one_by_one:
        d++;
        if (kind == R_LAST)
            break;
        if (kind != R_STD)
            return -1;
        rsp_only &= !bp_based;
        if (g && d <= ML_GUESS_FRAMES) {
            uint64_t rel = cfa - sp0;
            if (rel > UINT32_MAX) {
                g = NULL;   /* not a layout worth keeping */
            } else if (d > n || g->rel[d - 1] != (uint32_t)rel) {
                g->ver = 0;   /* first: the layout stops being the numbered one */
                g->rel[d - 1] = (uint32_t)rel;
                changed = 1;
            }
        }
        ip = *(const uint64_t *)(uintptr_t)(cfa - 8);
        if (k)
            bp = *(const uint64_t *)(uintptr_t)(cfa + 8 * (int64_t)k);
        sp = cfa;
        if (d < max && bad_ip(ip))
            return -1;
    }
    if (g) {
        /* The layout now describes this walk: its CFAs (the last frame of a
         * walk that ended by its rule has none, and needs none). */
        uint32_t whole = rsp_only && d <= ML_GUESS_FRAMES;
        uint64_t ip1 = d > 1 ? out[1] : 0;
        if (changed || g->ip0 != r->ip || g->ip1 != ip1 || g->n != d || g->max != max ||
            g->whole != whole) {
            g->ip0 = r->ip;
            g->ip1 = ip1;
            g->n = d;
            g->max = max;
            g->whole = whole;
            g->ver = 0;
        }
    }
    return (int)d;
}
