/* xml.c - valgrind's XML output protocol 4 (memcheck's) for one process.
 *
 * Writes what IDE memcheck views and CI plugins read from valgrind
 * --xml=yes, in memcheck's element order (valgrind's sources describe it in
 * docs/internals/xml-output-protocol4.txt): the preamble, pid, ppid, tool,
 * args, the RUNNING and FINISHED status, one Leak_* error per loss record of
 * the shown kinds (leakedbytes counting the indirect bytes a definite
 * record keeps lost, as memcheck does), errorcounts and suppcounts.
 * docs/formats.md lists which element comes from which model field.
 *
 * Text is escaped for XML: markup characters become entities, control
 * characters that XML 1.0 forbids become '?', and bytes that are not valid
 * UTF-8 become U+FFFD, so that any name (a C++ template, a path) leaves the
 * document well-formed.  Owns nothing; the stream's error state is returned.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "openfds.h"
#include "render.h"
#include "stacktab.h"
#include "suppress.h"
#include "utf8.h"

/* ---- escaping ----------------------------------------------------------- */

static const char *entity(unsigned char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&apos;";
    default: return NULL;
    }
}

static void put_text(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str, *e = s + strlen(str);

    while (s < e) {
        size_t skip = 0, n = ml_utf8_len(s, (size_t)(e - s), &skip);
        if (!n) {
            fputs(ML_UTF8_REPLACEMENT, out);
            s += skip;
        } else if (n > 1) {
            fwrite(s, 1, n, out);
            s += n;
        } else {
            const char *ent = entity(*s);
            if (ent)
                fputs(ent, out);
            else
                fputc(*s < 0x20 && *s != '\t' && *s != '\n' ? '?' : *s, out);
            s++;
        }
    }
}

/* "<name>text</name>\n" at the given indent. */
static void put_elem(FILE *out, int indent, const char *name, const char *text)
{
    fprintf(out, "%*s<%s>", indent, "", name);
    put_text(out, text);
    fprintf(out, "</%s>\n", name);
}

static void put_elem_u64(FILE *out, int indent, const char *name, uint64_t v)
{
    fprintf(out, "%*s<%s>%" PRIu64 "</%s>\n", indent, "", name, v, name);
}

/* ---- preamble -------------------------------------------------------------- */

static void put_argv(FILE *out, const char *name, char *const *argv)
{
    fprintf(out, "  <%s>\n", name);
    put_elem(out, 4, "exe", argv && argv[0] ? argv[0] : "");
    for (size_t i = 1; argv && argv[0] && argv[i]; i++)
        put_elem(out, 4, "arg", argv[i]);
    fprintf(out, "  </%s>\n", name);
}

static void put_command_line(FILE *out, char *const *argv)
{
    fputs("  <line>Command:", out);
    for (; argv && *argv; argv++) {
        fputc(' ', out);
        put_text(out, *argv);
    }
    fputs("</line>\n", out);
}

static void put_preamble(FILE *out, const struct ml_report *r, const struct ml_proc_report *p,
                         const struct ml_render_opts *o)
{
    char *const *argv = p->argv && p->argv[0] ? p->argv : r->command;

    int version = p->have_fds ? 5 : 4;   /* 5 adds the descriptor errors, as valgrind's */

    fprintf(out, "<?xml version=\"1.0\"?>\n\n<valgrindoutput>\n\n"
                 "<protocolversion>%d</protocolversion>\n"
                 "<protocoltool>memcheck</protocoltool>\n\n<preamble>\n"
                 "  <line>memlens, a memory leak and fragmentation detector</line>\n", version);
    fprintf(out, "  <line>Using memlens-");
    put_text(out, o && o->tool_version ? o->tool_version : "unknown");
    fprintf(out, " (memcheck's leak checking, XML protocol %d)</line>\n", version);
    put_command_line(out, argv);
    fputs("</preamble>\n\n", out);
    fprintf(out, "<pid>%d</pid>\n<ppid>%d</ppid>\n<tool>memcheck</tool>\n\n<args>\n",
            p->pid, p->ppid);
    put_argv(out, "vargv", o && o->tool_argv ? o->tool_argv : NULL);
    put_argv(out, "argv", argv);
    fputs("</args>\n\n", out);
}

/* valgrind's clock: days:hours:minutes:seconds.milliseconds, then a space. */
static void put_status(FILE *out, const char *state, double seconds)
{
    uint64_t ms = seconds > 0 ? (uint64_t)(seconds * 1000.0 + 0.5) : 0;
    fprintf(out, "<status>\n  <state>%s</state>\n"
                 "  <time>%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64
                 " </time>\n</status>\n\n",
            state, ms / 86400000, ms / 3600000 % 24, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

/* ---- errors ----------------------------------------------------------------- */

static const char *xml_kind(enum ml_leak_kind k)
{
    switch (k) {
    case ML_LK_DEFINITE: return "Leak_DefinitelyLost";
    case ML_LK_INDIRECT: return "Leak_IndirectlyLost";
    case ML_LK_POSSIBLE: return "Leak_PossiblyLost";
    default: return "Leak_StillReachable";
    }
}

/* file as DWARF names it, split into <dir> and <file> as valgrind does. */
static void put_source(FILE *out, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        char dir[4096];
        size_t n = (size_t)(slash - path);
        n = n < sizeof dir - 1 ? n : sizeof dir - 1;
        memcpy(dir, path, n);
        dir[n] = '\0';
        put_elem(out, 6, "dir", dir);
    }
    put_elem(out, 6, "file", slash ? slash + 1 : path);
}

static void put_frame(FILE *out, const struct ml_frame_out *f)
{
    fprintf(out, "    <frame>\n      <ip>0x%" PRIX64 "</ip>\n", f->address);
    if (f->module)
        put_elem(out, 6, "obj", f->module);
    if (f->function)
        put_elem(out, 6, "fn", f->function);
    if (f->file) {
        put_source(out, f->file);
        if (f->line > 0)
            fprintf(out, "      <line>%d</line>\n", f->line);
    }
    fputs("    </frame>\n", out);
}

/* The protocol wants one frame at least: an unknown stack is one unknown ip. */
static void put_stack(FILE *out, const struct ml_stack_out *st)
{
    static const struct ml_frame_out unknown;

    fputs("  <stack>\n", out);
    uint32_t node = st->top;
    for (size_t i = 0; i < st->nframes; i++)
        put_frame(out, ml_stack_node(st->tab, node, &node));
    if (st->nframes == 0)
        put_frame(out, &unknown);
    fputs("  </stack>\n", out);
}

/* Text inside CDATA: a "]]>" in it is split across two sections. */
static void put_cdata_text(FILE *out, const char *s)
{
    for (const char *end; (end = strstr(s, "]]>")); s = end + 2) {
        fwrite(s, 1, (size_t)(end - s) + 2, out);
        fputs("]]><![CDATA[", out);
    }
    fputs(s, out);
}

static void put_suppression(FILE *out, const struct ml_leak_record *rec)
{
    size_t n = ml_suppression_frames(&rec->stack);
    int is_fun;

    fprintf(out, "  <suppression>\n    <sname>insert_a_suppression_name_here</sname>\n"
                 "    <skind>Memcheck:Leak</skind>\n"
                 "    <skaux>match-leak-kinds: %s</skaux>\n", ml_leak_kind_key(rec->kind));
    uint32_t node = rec->stack.top;
    for (size_t i = 0; i < n; i++) {
        const char *name = ml_suppression_frame(ml_stack_node(rec->stack.tab, node, &node), &is_fun);
        fputs(is_fun ? "    <sframe> <fun>" : "    <sframe> <obj>", out);
        put_text(out, name);
        fputs(is_fun ? "</fun> </sframe>\n" : "</obj> </sframe>\n", out);
    }
    fprintf(out, "    <rawtext>\n<![CDATA[\n{\n   <insert_a_suppression_name_here>\n"
                 "   Memcheck:Leak\n   match-leak-kinds: %s\n", ml_leak_kind_key(rec->kind));
    node = rec->stack.top;
    for (size_t i = 0; i < n; i++) {
        const char *name = ml_suppression_frame(ml_stack_node(rec->stack.tab, node, &node), &is_fun);
        fputs(is_fun ? "   fun:" : "   obj:", out);
        put_cdata_text(out, name);
        fputc('\n', out);
    }
    fputs("}\n]]>\n    </rawtext>\n  </suppression>\n", out);
}

static void put_error(FILE *out, const struct ml_leak_record *rec, size_t index, size_t count,
                      const struct ml_render_opts *o)
{
    char title[192];

    ml_loss_record_title(title, sizeof title, rec, index, count);
    fprintf(out, "<error>\n  <unique>0x%zx</unique>\n  <tid>1</tid>\n  <kind>%s</kind>\n"
                 "  <xwhat>\n", index - 1, xml_kind(rec->kind));
    put_elem(out, 4, "text", title);
    put_elem_u64(out, 4, "leakedbytes", rec->bytes + rec->indirect_bytes);
    put_elem_u64(out, 4, "leakedblocks", rec->blocks);
    fputs("  </xwhat>\n", out);
    put_stack(out, &rec->stack);
    if (o->gen_suppressions)
        put_suppression(out, rec);
    fputs("</error>\n\n", out);
}

/* --track-fds: protocol 5's FdNotClosed error per descriptor the text
 * lists, after the leak errors' unique numbers.  Inherited ones, which have
 * no stack and are not the program's doing, are left out. */
static void put_fd_errors(FILE *out, const struct ml_proc_report *p)
{
    char what[4400];
    size_t unique = p->nrecords;

    for (size_t i = 0; p->have_fds && i < p->nfds; i++) {
        const struct ml_fd_out *f = &p->fds[i];
        if (!ml_fd_listed(p, f) || f->inherited || !f->function)
            continue;
        fprintf(out, "<error>\n  <unique>0x%zx</unique>\n  <tid>1</tid>\n"
                     "  <kind>FdNotClosed</kind>\n  <fd>%d</fd>\n", unique++, f->fd);
        if (f->kind && strcmp(f->kind, "file") == 0)
            put_elem(out, 2, "path", f->path);
        ml_fd_title(what, sizeof what, f);
        put_elem(out, 2, "what", what);
        put_stack(out, &f->stack);
        fputs("</error>\n\n", out);
    }
}

/* Leak errors exist only with --leak-check=full and memory that was read;
 * records are numbered among all records, shown or not, as memcheck does. */
static void put_errors(FILE *out, const struct ml_proc_report *p, const struct ml_render_opts *o)
{
    if (o->leak_check != ML_LEAK_CHECK_FULL || !p->scanned)
        return;
    for (size_t i = 0; i < p->nrecords; i++) {
        const struct ml_leak_record *rec = &p->records[i];
        if (!rec->suppressed && (unsigned)rec->kind < ML_LK_COUNT &&
            (o->show_kinds & (1u << rec->kind)))
            put_error(out, rec, i + 1, p->nrecords, o);
    }
}

static const char *suppression_of(const struct ml_proc_report *p, size_t i)
{
    return p->records[i].suppressed ? p->records[i].suppression : NULL;
}

/* Whether record i is the first that suppression `name` silenced; *count
 * gets how many it silenced in all. */
static int first_use(const struct ml_proc_report *p, size_t i, const char *name, size_t *count)
{
    *count = 0;
    for (size_t j = 0; j < p->nrecords; j++) {
        const char *other = suppression_of(p, j);
        if (!other || strcmp(other, name) != 0)
            continue;
        if (j < i)
            return 0;
        ++*count;
    }
    return 1;
}

/* How many records each suppression silenced, by name in first-use order. */
static void put_suppcounts(FILE *out, const struct ml_proc_report *p)
{
    size_t count;

    fputs("<suppcounts>\n", out);
    for (size_t i = 0; i < p->nrecords; i++) {
        const char *name = suppression_of(p, i);
        if (!name || !first_use(p, i, name, &count))
            continue;
        fprintf(out, "  <pair>\n    <count>%zu</count>\n", count);
        put_elem(out, 4, "name", name);
        fputs("  </pair>\n", out);
    }
    fputs("</suppcounts>\n\n", out);
}

int ml_render_xml(FILE *out, const struct ml_report *r, const struct ml_proc_report *p,
                  const struct ml_render_opts *o)
{
    put_preamble(out, r, p, o);
    put_status(out, "RUNNING", 0);
    put_status(out, "FINISHED", p->duration);
    put_fd_errors(out, p);
    put_errors(out, p, o);
    fputs("<errorcounts>\n</errorcounts>\n\n", out);
    put_suppcounts(out, p);
    fputs("</valgrindoutput>\n", out);
    if (ferror(out)) {
        errno = errno ? errno : EIO;
        return -1;
    }
    return 0;
}
