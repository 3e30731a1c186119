/*
 * stanza_xml_nif: the serializer as a NIF (module stanza_xml_nif, wrapped
 * by stanza_xml.erl). Element terms in, one binary out.
 *
 * The walk is iterative: open elements live on an explicit stack of frames,
 * never on the C stack, so a 100k-deep element is as safe as a flat one.
 *
 * Scheduling. Every CHECK_NODES nodes or CHECK_BYTES bytes the walk reads
 * the clock, reports the time used with enif_consume_timeslice, and when
 * the slice is spent (or about 1 ms has passed) reschedules itself with
 * enif_schedule_nif. Nothing that refers to the heap survives a yield in C
 * memory: the process may be garbage-collected before the next step, and
 * that moves terms. So the stack is handed over as Erlang terms in the new
 * argv (a list of tuples, innermost frame first), and the bytes written so
 * far, which are not terms, stay in an ErlNifBinary owned by a resource.
 * On resume only the frames the walk actually reaches are decoded back
 * into C, so a yield costs what the work since the last one touched, not
 * the depth of the element.
 *
 * The output is one binary grown with enif_realloc_binary and handed to
 * the caller with enif_make_binary: written once, never copied (see finish
 * for when it is shrunk to fit and when it is returned as a sub-binary).
 *
 * A bad term raises error({badxml, Element, {What, Path, Why}}); see
 * stanza_xml.erl for the reasons. Running out of memory raises
 * error(out_of_memory).
 */
#include <erl_nif.h>
#include <string.h>

#include "grow.h"
#include "time_budget.h"
#include "xml_serialize.h"

/* Wall-clock budget of one invocation before it yields. */
#define BUDGET_NS 1000000LL
/* Work between two clock reads: a few microseconds at most, so small
 * elements (most stanzas) never read the clock at all. */
#define CHECK_NODES 256
#define CHECK_BYTES 65536
/* Text longer than this is written in slices, so one huge text node
 * cannot hold the scheduler either. */
#define TEXT_SLICE 65536
/* First output capacity: most stanzas fit (the corpus's median is about
 * 330 bytes), and from half of it on the result keeps the buffer as it is
 * (see finish). */
#define FIRST_CAP 512
/* Frames kept in the call's own C stack before moving to the heap. */
#define LOCAL_FRAMES 32

typedef struct module_state {
    ErlNifResourceType *out_type;
    int refs; /* loads sharing it: an upgrade keeps the old one */
} module_state;

/* The bytes written so far, kept between two steps of one call. */
typedef struct out_res {
    ErlNifBinary bin;
    size_t len;
    int owned; /* bin holds memory that the destructor must release */
} out_res;

typedef enum frame_kind { FRAME_ELEMENT, FRAME_TEXT } frame_kind;

typedef struct frame {
    frame_kind kind;
    /* Element: the children not written yet. Text: the binary. */
    ERL_NIF_TERM rest;
    /* Element: 1-based position of the child being written (0 before the
     * first). Text: bytes written. */
    size_t pos;
    /* Element: where its name sits in the output, for the end tag (the
     * name was checked once, when the start tag was written). */
    size_t name_off;
    size_t name_len;
} frame;

typedef enum step {
    STEP_DONE,
    STEP_YIELD,
    STEP_ERROR
} step;

typedef struct walk {
    ErlNifEnv *env;
    module_state *module;
    ERL_NIF_TERM root;
    int header_only;
    /* how text and attribute values are escaped: stanza's or fast_xml's */
    stz_ser_context text_ctx, attr_ctx;
    ErlNifBinary bin; /* backs out; owned by the walk while it runs */
    int have_bin;
    stz_out out;
    frame local[LOCAL_FRAMES];
    frame *stack;
    size_t depth, cap;
    ERL_NIF_TERM saved; /* frames below stack[0], innermost first */
    /* Time accounting: budget runs once the clock was read. */
    int clock_read;
    time_budget budget;
    /* On STEP_ERROR: the exception to raise. */
    ERL_NIF_TERM error;
} walk;

/* The empty list, an immediate like the atoms. */
static ERL_NIF_TERM term_nil;

static ERL_NIF_TERM atom_xmlelement, atom_xmlel, atom_xmlcdata, atom_badxml,
    atom_attr, atom_out_of_memory, atom_bad_element, atom_bad_element_name,
    atom_bad_attribute, atom_bad_attribute_name, atom_bad_attribute_value,
    atom_bad_attributes, atom_bad_children, atom_bad_cdata,
    atom_not_an_element, atom_not_a_pair, atom_not_a_list, atom_not_iodata,
    atom_not_a_name, atom_invalid_utf8, atom_forbidden_char;

/* ---------------------------------------------------------------------- */
/* Output buffer                                                           */

static int reserve_bin(stz_out *out, size_t need)
{
    walk *w = out->ctx;
    if (need > SIZE_MAX - out->len)
        return 0;
    size_t want = out->len + need;
    size_t cap = out->cap ? out->cap : FIRST_CAP;
    while (cap < want) {
        if (cap > SIZE_MAX / 2)
            return 0;
        cap *= 2;
    }
    if (!enif_realloc_binary(&w->bin, cap))
        return 0;
    out->data = w->bin.data;
    out->cap = w->bin.size;
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */

/* The positions of the open elements, outermost first: the path of the
 * node being written. skip_top leaves out the innermost element frame
 * (when the fault is in that element itself, not in one of its children). */
static ERL_NIF_TERM current_path(walk *w, int skip_top, ERL_NIF_TERM tail)
{
    ErlNifEnv *env = w->env;
    ERL_NIF_TERM path = tail;
    int skipped = !skip_top;
    for (size_t i = w->depth; i > 0; i--) {
        frame *f = &w->stack[i - 1];
        if (f->kind != FRAME_ELEMENT)
            continue;
        if (!skipped) {
            skipped = 1;
            continue;
        }
        path = enif_make_list_cell(env, enif_make_uint64(env, f->pos), path);
    }
    ERL_NIF_TERM head, rest = w->saved;
    while (enif_get_list_cell(env, rest, &head, &rest)) {
        int arity;
        const ERL_NIF_TERM *t;
        if (!enif_get_tuple(env, head, &arity, &t) || arity != 4)
            continue;
        if (!skipped) {
            skipped = 1;
            continue;
        }
        path = enif_make_list_cell(env, t[1], path);
    }
    return path;
}

/* Records error({badxml, Root, {What, Path, Why}}); returns STEP_ERROR. */
static step fail_at(walk *w, ERL_NIF_TERM what, ERL_NIF_TERM path,
                    ERL_NIF_TERM why)
{
    ErlNifEnv *env = w->env;
    ERL_NIF_TERM reason = enif_make_tuple3(env, what, path, why);
    w->error = enif_make_tuple3(env, atom_badxml, w->root, reason);
    return STEP_ERROR;
}

static step fail(walk *w, ERL_NIF_TERM what, ERL_NIF_TERM why)
{
    return fail_at(w, what, current_path(w, 0, enif_make_list(w->env, 0)),
                   why);
}

/* The path of attribute number index of the element being written. */
static step fail_attr(walk *w, ERL_NIF_TERM what, size_t index,
                      ERL_NIF_TERM why)
{
    ErlNifEnv *env = w->env;
    ERL_NIF_TERM last = enif_make_tuple2(env, atom_attr,
                                         enif_make_uint64(env, index));
    ERL_NIF_TERM path =
        current_path(w, 0, enif_make_list1(env, last));
    return fail_at(w, what, path, why);
}

static step out_of_memory(walk *w)
{
    w->error = atom_out_of_memory;
    return STEP_ERROR;
}

/* Why, for a status of the checks. */
static ERL_NIF_TERM why_term(walk *w, stz_ser_status status, uint32_t bad)
{
    switch (status) {
    case STZ_SER_INVALID_UTF8:
        return atom_invalid_utf8;
    case STZ_SER_FORBIDDEN_CHAR:
        return enif_make_tuple2(w->env, atom_forbidden_char,
                                enif_make_uint(w->env, bad));
    default:
        return atom_not_a_name;
    }
}

/* ---------------------------------------------------------------------- */
/* The stack                                                               */

static frame *push(walk *w)
{
    if (w->depth == w->cap) {
        size_t cap = w->cap;
        frame *grown;
        if (w->stack == w->local) {
            /* Leaving the local array: the heap copy starts at twice it. */
            cap = 2 * LOCAL_FRAMES;
            grown = enif_alloc(cap * sizeof(frame));
            if (grown)
                memcpy(grown, w->local, w->depth * sizeof(frame));
        } else {
            grown = grow_array(w->stack, &cap, w->depth + 1, sizeof(frame),
                               LOCAL_FRAMES, enif_realloc);
        }
        if (!grown)
            return NULL;
        w->stack = grown;
        w->cap = cap;
    }
    return &w->stack[w->depth++];
}

/* The innermost frame, decoding the next saved one if the C stack is
 * empty; NULL when the walk is over. */
static frame *top(walk *w)
{
    if (w->depth > 0)
        return &w->stack[w->depth - 1];
    ERL_NIF_TERM head, tail;
    int arity;
    const ERL_NIF_TERM *t;
    ErlNifUInt64 pos, off = 0, len = 0;
    if (!enif_get_list_cell(w->env, w->saved, &head, &tail) ||
        !enif_get_tuple(w->env, head, &arity, &t) ||
        (arity != 2 && arity != 4) || !enif_get_uint64(w->env, t[1], &pos) ||
        (arity == 4 && (!enif_get_uint64(w->env, t[2], &off) ||
                        !enif_get_uint64(w->env, t[3], &len))))
        return NULL;
    w->saved = tail;
    frame *f = push(w); /* depth is 0: the local array has room */
    f->kind = arity == 4 ? FRAME_ELEMENT : FRAME_TEXT;
    f->rest = t[0];
    f->pos = pos;
    f->name_off = off;
    f->name_len = len;
    return f;
}

/* The C frames back to terms, on top of the ones never decoded. */
static ERL_NIF_TERM saved_stack(walk *w)
{
    ErlNifEnv *env = w->env;
    ERL_NIF_TERM list = w->saved;
    for (size_t i = 0; i < w->depth; i++) {
        frame *f = &w->stack[i];
        ERL_NIF_TERM pos = enif_make_uint64(env, f->pos);
        ERL_NIF_TERM t =
            f->kind == FRAME_TEXT
                ? enif_make_tuple2(env, f->rest, pos)
                : enif_make_tuple4(env, f->rest, pos,
                                   enif_make_uint64(env, f->name_off),
                                   enif_make_uint64(env, f->name_len));
        list = enif_make_list_cell(env, t, list);
    }
    return list;
}

/* ---------------------------------------------------------------------- */
/* Writing                                                                 */

static int get_bytes(ErlNifEnv *env, ERL_NIF_TERM t, ErlNifBinary *b)
{
    return enif_inspect_binary(env, t, b) ||
           enif_inspect_iolist_as_binary(env, t, b);
}

static inline step put(walk *w, const char *s, size_t len)
{
    if (!stz_out_reserve(&w->out, len))
        return out_of_memory(w);
    memcpy(w->out.data + w->out.len, s, len);
    w->out.len += len;
    return STEP_DONE;
}

/* One attribute, index 1-based, as " name='value'". */
static step write_attr(walk *w, ERL_NIF_TERM attr, size_t index)
{
    ErlNifEnv *env = w->env;
    int arity;
    const ERL_NIF_TERM *kv;
    ErlNifBinary name, value;
    if (!enif_get_tuple(env, attr, &arity, &kv) || arity != 2)
        return fail_attr(w, atom_bad_attribute, index, atom_not_a_pair);
    if (!get_bytes(env, kv[0], &name))
        return fail_attr(w, atom_bad_attribute_name, index, atom_not_iodata);
    stz_ser_status st = stz_ser_check_name(name.data, name.size);
    if (st)
        return fail_attr(w, atom_bad_attribute_name, index,
                         why_term(w, st, 0));
    if (!get_bytes(env, kv[1], &value))
        return fail_attr(w, atom_bad_attribute_value, index, atom_not_iodata);
    /* " name='" and, when the value needs no escaping, the value and the
     * closing quote: one reserve. */
    if (!stz_out_reserve(&w->out, name.size + value.size + 4))
        return out_of_memory(w);
    unsigned char *p = w->out.data + w->out.len;
    p[0] = ' ';
    stz_copy(p + 1, name.data, name.size);
    p[name.size + 1] = '=';
    p[name.size + 2] = '\'';
    w->out.len += name.size + 3;
    uint32_t bad = 0;
    st = stz_ser_escape(&w->out, value.data, value.size, w->attr_ctx, &bad);
    if (st == STZ_SER_NO_MEMORY)
        return out_of_memory(w);
    if (st)
        return fail_attr(w, atom_bad_attribute_value, index,
                         why_term(w, st, bad));
    return put(w, "'", 1);
}

/* An element whose only child is a short text, {xmlcdata, Text}, is
 * written whole, without a frame: ">text</name>". Returns 0, having
 * written nothing, when the children are anything else or the text is
 * not valid; the caller then takes the general way, which reports the
 * fault with its path. */
static int write_text_only(walk *w, ERL_NIF_TERM children,
                           const ErlNifBinary *name)
{
    ErlNifEnv *env = w->env;
    ERL_NIF_TERM child, rest;
    int arity;
    const ERL_NIF_TERM *t;
    ErlNifBinary b;
    if (!enif_get_list_cell(env, children, &child, &rest) || rest != term_nil ||
        !enif_get_tuple(env, child, &arity, &t) || arity != 2 ||
        t[0] != atom_xmlcdata || !get_bytes(env, t[1], &b) ||
        b.size > TEXT_SLICE)
        return 0;
    size_t start = w->out.len;
    /* ">", the text when it needs no escaping, "</name>". */
    if (!stz_out_reserve(&w->out, b.size + name->size + 4))
        return 0;
    w->out.data[w->out.len++] = '>';
    uint32_t bad = 0;
    if (stz_ser_escape(&w->out, b.data, b.size, w->text_ctx, &bad) ||
        !stz_out_reserve(&w->out, name->size + 3)) {
        w->out.len = start;
        return 0;
    }
    unsigned char *p = w->out.data + w->out.len;
    p[0] = '<';
    p[1] = '/';
    stz_copy(p + 2, name->data, name->size);
    p[name->size + 2] = '>';
    w->out.len += name->size + 3;
    return 1;
}

/* The start tag; an element with children gets a frame, unless its only
 * child is a short text (write_text_only). */
static step write_element(walk *w, const ERL_NIF_TERM *t)
{
    ErlNifEnv *env = w->env;
    ErlNifBinary name;
    if (!get_bytes(env, t[1], &name))
        return fail(w, atom_bad_element_name, atom_not_iodata);
    stz_ser_status st = stz_ser_check_name(name.data, name.size);
    if (st)
        return fail(w, atom_bad_element_name, why_term(w, st, 0));
    /* "<name" and "/>" or ">": one reserve. */
    if (!stz_out_reserve(&w->out, name.size + 3))
        return out_of_memory(w);
    w->out.data[w->out.len] = '<';
    size_t name_off = w->out.len + 1;
    stz_copy(w->out.data + name_off, name.data, name.size);
    w->out.len = name_off + name.size;

    ERL_NIF_TERM attr, attrs = t[2];
    size_t index = 0;
    while (enif_get_list_cell(env, attrs, &attr, &attrs))
        if (write_attr(w, attr, ++index))
            return STEP_ERROR;
    if (attrs != term_nil)
        return fail(w, atom_bad_attributes, atom_not_a_list);

    if (w->header_only)
        return put(w, ">", 1);
    ERL_NIF_TERM children = t[3];
    if (children == term_nil)
        return put(w, "/>", 2);
    if (!enif_is_list(env, children))
        return fail(w, atom_bad_children, atom_not_a_list);
    if (write_text_only(w, children, &name))
        return STEP_DONE;
    if (put(w, ">", 1))
        return STEP_ERROR;
    frame *f = push(w);
    if (!f)
        return out_of_memory(w);
    f->kind = FRAME_ELEMENT;
    f->rest = children;
    f->pos = 0;
    f->name_off = name_off;
    f->name_len = name.size;
    return STEP_DONE;
}

static step escape_text(walk *w, const unsigned char *s, size_t len)
{
    uint32_t bad = 0;
    stz_ser_status st = stz_ser_escape(&w->out, s, len, w->text_ctx, &bad);
    if (st == STZ_SER_NO_MEMORY)
        return out_of_memory(w);
    if (st)
        return fail(w, atom_bad_cdata, why_term(w, st, bad));
    return STEP_DONE;
}

static step write_cdata(walk *w, ERL_NIF_TERM data)
{
    ErlNifEnv *env = w->env;
    ErlNifBinary b;
    if (!get_bytes(env, data, &b))
        return fail(w, atom_bad_cdata, atom_not_iodata);
    if (b.size <= TEXT_SLICE)
        return escape_text(w, b.data, b.size);
    /* Long text: a frame, written slice by slice by the loop. Flattened
     * iodata becomes a binary term so that it can outlive a yield. */
    ERL_NIF_TERM bin = data;
    if (!enif_is_binary(env, data)) {
        unsigned char *p = enif_make_new_binary(env, b.size, &bin);
        if (!p)
            return out_of_memory(w);
        memcpy(p, b.data, b.size);
    }
    frame *f = push(w);
    if (!f)
        return out_of_memory(w);
    f->kind = FRAME_TEXT;
    f->rest = bin;
    f->pos = 0;
    f->name_off = f->name_len = 0;
    return STEP_DONE;
}

static step write_node(walk *w, ERL_NIF_TERM node)
{
    ErlNifEnv *env = w->env;
    int arity;
    const ERL_NIF_TERM *t;
    if (enif_get_tuple(env, node, &arity, &t)) {
        /* Atoms are immediates: equal atoms are equal terms. */
        if (arity == 4 && (t[0] == atom_xmlel || t[0] == atom_xmlelement))
            return write_element(w, t);
        if (arity == 2 && !w->header_only && t[0] == atom_xmlcdata)
            return write_cdata(w, t[1]);
    }
    return fail(w, atom_bad_element, atom_not_an_element);
}

/* The next slice of a long text. */
static step text_step(walk *w, frame *f)
{
    ErlNifBinary b;
    if (!enif_inspect_binary(w->env, f->rest, &b) || f->pos > b.size)
        return out_of_memory(w); /* cannot happen: the frame is ours */
    size_t end = stz_ser_cut(b.data, b.size, f->pos + TEXT_SLICE);
    if (end > b.size)
        end = b.size;
    size_t from = f->pos;
    f->pos = end;
    if (end == b.size)
        w->depth--; /* f stays readable: the stack is not shrunk */
    return escape_text(w, b.data + from, end - from);
}

/* Closes the innermost element (its children all written). */
static step close_element(walk *w, frame *f)
{
    if (f->rest != term_nil)
        return fail_at(w, atom_bad_children,
                       current_path(w, 1, term_nil), atom_not_a_list);
    size_t off = f->name_off, len = f->name_len;
    if (!stz_out_reserve(&w->out, len + 3))
        return out_of_memory(w);
    /* After the reserve: the buffer may have moved. */
    unsigned char *p = w->out.data + w->out.len;
    p[0] = '<';
    p[1] = '/';
    stz_copy(p + 2, w->out.data + off, len);
    p[len + 2] = '>';
    w->out.len += len + 3;
    w->depth--;
    return STEP_DONE;
}

/* time_budget's report, ctx being the call's environment. */
static int consume_timeslice(void *env, int percent)
{
    return enif_consume_timeslice(env, percent);
}

/* Starts the budget at the first clock read of the call. */
static void start_clock(walk *w, ErlNifTime now)
{
    w->clock_read = 1;
    time_budget_start(&w->budget, BUDGET_NS, now);
}

/* Reports the time used; true when the call should yield. */
static int time_up(walk *w)
{
    ErlNifTime now = enif_monotonic_time(ERL_NIF_NSEC);
    if (!w->clock_read) {
        start_clock(w, now);
        return 0;
    }
    return time_budget_check(&w->budget, now, consume_timeslice, w->env);
}

/* Every CHECK_NODES nodes or CHECK_BYTES bytes: true when the call
 * should yield. */
static inline int check_due(walk *w, unsigned *nodes, size_t *mark)
{
    if (++*nodes < CHECK_NODES && w->out.len - *mark < CHECK_BYTES)
        return 0;
    *nodes = 0;
    *mark = w->out.len;
    return time_up(w);
}

static step run(walk *w)
{
    ErlNifEnv *env = w->env;
    unsigned nodes = 0;
    size_t mark = w->out.len;
    frame *f;
    while ((f = top(w)) != NULL) {
        if (f->kind == FRAME_TEXT) {
            step s = text_step(w, f);
            if (s != STEP_DONE)
                return s;
            if (check_due(w, &nodes, &mark))
                return STEP_YIELD;
            continue;
        }
        /* The children of the innermost element, one after the other,
         * until one opens a frame of its own (f is stale then: push may
         * have moved the stack) or the element is closed. */
        size_t depth = w->depth;
        for (;;) {
            ERL_NIF_TERM child, rest;
            step s;
            int open = 1;
            if (enif_get_list_cell(env, f->rest, &child, &rest)) {
                f->rest = rest;
                f->pos++;
                s = write_node(w, child);
                open = w->depth == depth;
            } else {
                s = close_element(w, f);
                open = 0;
            }
            if (s != STEP_DONE)
                return s;
            if (check_due(w, &nodes, &mark))
                return STEP_YIELD;
            if (!open)
                break;
        }
    }
    return STEP_DONE;
}

/* ---------------------------------------------------------------------- */
/* Calls                                                                   */

static ERL_NIF_TERM serialize_step(ErlNifEnv *env, int argc,
                                   const ERL_NIF_TERM argv[]);

static void walk_free(walk *w)
{
    if (w->stack != w->local)
        enif_free(w->stack);
    if (w->have_bin)
        enif_release_binary(&w->bin);
}

/* The binary, handed over without a copy. When the unused tail is larger
 * than what was written, the buffer is first shrunk to fit (outputs of up
 * to 64 bytes then become heap binaries, enif_make_binary copies those);
 * otherwise the shrink, a realloc costing about as much as serializing a
 * small element, is skipped and the result is a sub-binary of the whole
 * buffer. Either way the result is exactly the bytes written, and it never
 * keeps more than twice its size in memory. */
static ERL_NIF_TERM finish(walk *w)
{
    ErlNifEnv *env = w->env;
    size_t len = w->out.len;
    /* When the clock was never read, charge the timeslice by size (about
     * 1% per 4 KB), so that a loop of small calls is still preempted. */
    if (!w->clock_read && len >= 4096)
        (void)enif_consume_timeslice(env, (int)(len / 4096));
    int exact = w->bin.size == len;
    if (!exact && w->bin.size - len > len)
        exact = enif_realloc_binary(&w->bin, len);
    w->have_bin = 0;
    ERL_NIF_TERM bin = enif_make_binary(env, &w->bin);
    if (!exact) /* a shrink skipped, or one that failed */
        bin = enif_make_sub_binary(env, bin, 0, len);
    walk_free(w);
    return bin;
}

static ERL_NIF_TERM yield(walk *w, const ERL_NIF_TERM argv[], out_res *res)
{
    ErlNifEnv *env = w->env;
    ERL_NIF_TERM res_term;
    if (res) {
        res_term = argv[3];
    } else {
        res = enif_alloc_resource(w->module->out_type, sizeof *res);
        if (!res) {
            walk_free(w);
            return enif_raise_exception(env, atom_out_of_memory);
        }
        res_term = enif_make_resource(env, res);
        enif_release_resource(res);
    }
    res->bin = w->bin;
    res->len = w->out.len;
    res->owned = 1;
    w->have_bin = 0;
    ERL_NIF_TERM next[4] = {w->root, argv[1], saved_stack(w), res_term};
    walk_free(w);
    return enif_schedule_nif(env, "element_to_binary", 0, serialize_step, 4,
                             next);
}

static ERL_NIF_TERM conclude(walk *w, step s, const ERL_NIF_TERM argv[],
                             out_res *res)
{
    switch (s) {
    case STEP_DONE:
        return finish(w);
    case STEP_YIELD:
        return yield(w, argv, res);
    default: {
        ERL_NIF_TERM error = w->error;
        walk_free(w);
        return enif_raise_exception(w->env, error);
    }
    }
}

/* Bits of serialize's Mode. */
#define MODE_HEADER_ONLY 1
#define MODE_FAST_XML_ESCAPING 2

static void walk_init(walk *w, ErlNifEnv *env, ERL_NIF_TERM root,
                      unsigned mode)
{
    int fast_xml = (mode & MODE_FAST_XML_ESCAPING) != 0;
    w->env = env;
    w->module = enif_priv_data(env);
    w->root = root;
    w->header_only = (mode & MODE_HEADER_ONLY) != 0;
    w->text_ctx = fast_xml ? STZ_SER_TEXT_FAST_XML : STZ_SER_TEXT;
    w->attr_ctx = fast_xml ? STZ_SER_ATTR_FAST_XML : STZ_SER_ATTR;
    w->have_bin = 0;
    w->out.len = 0;
    w->out.reserve = reserve_bin;
    w->out.ctx = w;
    w->stack = w->local;
    w->depth = 0;
    w->cap = LOCAL_FRAMES;
    w->saved = term_nil;
    w->clock_read = 0;
}

/* serialize_step(Root, Mode, SavedStack, Buffer): a yielded call resumed. */
static ERL_NIF_TERM serialize_step(ErlNifEnv *env, int argc,
                                   const ERL_NIF_TERM argv[])
{
    (void)argc;
    walk w;
    out_res *res;
    unsigned mode;
    if (!enif_get_uint(env, argv[1], &mode) ||
        !enif_get_resource(env, argv[3],
                           ((module_state *)enif_priv_data(env))->out_type,
                           (void **)&res) ||
        !res->owned)
        return enif_make_badarg(env);
    walk_init(&w, env, argv[0], mode);
    w.bin = res->bin;
    w.have_bin = 1;
    res->owned = 0;
    w.out.data = w.bin.data;
    w.out.cap = w.bin.size;
    w.out.len = res->len;
    w.saved = argv[2];
    start_clock(&w, enif_monotonic_time(ERL_NIF_NSEC));
    return conclude(&w, run(&w), argv, res);
}

/* serialize(Element, Mode): Mode 0 writes the whole element, 1 only its
 * start tag (element_to_header); plus 2 for fast_xml's escaping. */
static ERL_NIF_TERM serialize_nif(ErlNifEnv *env, int argc,
                                  const ERL_NIF_TERM argv[])
{
    (void)argc;
    unsigned mode;
    if (!enif_get_uint(env, argv[1], &mode) || mode > 3)
        return enif_make_badarg(env);
    walk w;
    walk_init(&w, env, argv[0], mode);
    if (!enif_alloc_binary(FIRST_CAP, &w.bin))
        return enif_raise_exception(env, atom_out_of_memory);
    w.have_bin = 1;
    w.out.data = w.bin.data;
    w.out.cap = w.bin.size;
    step s = write_node(&w, argv[0]);
    if (s == STEP_DONE)
        s = run(&w);
    return conclude(&w, s, argv, NULL);
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

static void out_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    out_res *res = obj;
    if (res->owned)
        enif_release_binary(&res->bin);
}

static void make_atoms(ErlNifEnv *env)
{
#define ATOM(var, name) var = enif_make_atom(env, name)
    ATOM(atom_xmlelement, "xmlelement");
    ATOM(atom_xmlel, "xmlel");
    ATOM(atom_xmlcdata, "xmlcdata");
    ATOM(atom_badxml, "badxml");
    ATOM(atom_attr, "attr");
    ATOM(atom_out_of_memory, "out_of_memory");
    ATOM(atom_bad_element, "bad_element");
    ATOM(atom_bad_element_name, "bad_element_name");
    ATOM(atom_bad_attribute, "bad_attribute");
    ATOM(atom_bad_attribute_name, "bad_attribute_name");
    ATOM(atom_bad_attribute_value, "bad_attribute_value");
    ATOM(atom_bad_attributes, "bad_attributes");
    ATOM(atom_bad_children, "bad_children");
    ATOM(atom_bad_cdata, "bad_cdata");
    ATOM(atom_not_an_element, "not_an_element");
    ATOM(atom_not_a_pair, "not_a_pair");
    ATOM(atom_not_a_list, "not_a_list");
    ATOM(atom_not_iodata, "not_iodata");
    ATOM(atom_not_a_name, "not_a_name");
    ATOM(atom_invalid_utf8, "invalid_utf8");
    ATOM(atom_forbidden_char, "forbidden_char");
#undef ATOM
    term_nil = enif_make_list(env, 0);
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)info;
    module_state *m = enif_alloc(sizeof *m);
    if (!m)
        return 1;
    m->out_type = enif_open_resource_type(env, NULL, "stanza_xml_buffer",
                                          out_dtor, ERL_NIF_RT_CREATE, NULL);
    if (!m->out_type) {
        enif_free(m);
        return 1;
    }
    m->refs = 1;
    make_atoms(env);
    *priv = m;
    return 0;
}

/* A hot upgrade: the new code shares the old private data and takes the
 * buffer type over, so a serialization that yielded across the upgrade
 * finishes. Loads and unloads of a module are serialized by the VM. */
static int upgrade(ErlNifEnv *env, void **priv, void **old_priv,
                   ERL_NIF_TERM info)
{
    (void)info;
    module_state *m = *old_priv;
    m->out_type = enif_open_resource_type(env, NULL, "stanza_xml_buffer",
                                          out_dtor, ERL_NIF_RT_TAKEOVER, NULL);
    if (!m->out_type)
        return 1;
    m->refs++;
    make_atoms(env);
    *priv = m;
    return 0;
}

static void unload(ErlNifEnv *env, void *priv)
{
    (void)env;
    module_state *m = priv;
    if (--m->refs == 0)
        enif_free(m);
}

static ErlNifFunc nif_funcs[] = {
    {"serialize", 2, serialize_nif, 0},
};

ERL_NIF_INIT(stanza_xml_nif, nif_funcs, load, NULL, upgrade, unload)
