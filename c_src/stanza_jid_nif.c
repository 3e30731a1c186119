/*
 * stanza_jid_nif: stringprep and JIDs as a NIF (module stanza_jid_nif,
 * wrapped by stanza_jid and by the opt-in stringprep application).
 *
 * Every call is bounded before it starts: an input longer than 1023
 * bytes (3071 + 2 for a whole JID) is answered `too_long` without being
 * read, and 1023 bytes of the worst input take well under a millisecond
 * (doc/jid.md shows the measurement), so no call needs slicing or a
 * dirty scheduler.
 *
 * Memory: ASCII input needs no work area. Otherwise the work area is on
 * the stack for inputs up to STACK_IN bytes (3.4 KB) and one enif_alloc
 * block beyond, freed before returning. Results that equal the input
 * are returned as the input binary itself (or a sub-binary of it), so
 * the common already-prepared case allocates nothing.
 */
#include <erl_nif.h>
#include <string.h>

#include "jid.h"
#include "stringprep.h"

#define STACK_IN 64

/* prep/2's first argument: a profile, plus WIDE for the compat
 * application (output as long as it comes, like fast_stringprep) rather
 * than a JID part's 1023 bytes. */
#define WIDE 8

static ERL_NIF_TERM atom_invalid_utf8, atom_too_long, atom_prohibited,
    atom_unassigned, atom_bidi, atom_bad_localpart, atom_bad_domain,
    atom_bad_resource, atom_enomem;

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)priv;
    (void)info;
    atom_invalid_utf8 = enif_make_atom(env, "invalid_utf8");
    atom_too_long = enif_make_atom(env, "too_long");
    atom_prohibited = enif_make_atom(env, "prohibited");
    atom_unassigned = enif_make_atom(env, "unassigned");
    atom_bidi = enif_make_atom(env, "bidi");
    atom_bad_localpart = enif_make_atom(env, "bad_localpart");
    atom_bad_domain = enif_make_atom(env, "bad_domain");
    atom_bad_resource = enif_make_atom(env, "bad_resource");
    atom_enomem = enif_make_atom(env, "enomem");
    return 0;
}

static int upgrade(ErlNifEnv *env, void **priv, void **old, ERL_NIF_TERM info)
{
    (void)old;
    return load(env, priv, info);
}

static ERL_NIF_TERM jid_error(stzjid_result r)
{
    switch (r) {
    case STZJID_INVALID_UTF8: return atom_invalid_utf8;
    case STZJID_TOO_LONG: return atom_too_long;
    case STZJID_UNASSIGNED: return atom_unassigned;
    case STZJID_BIDI: return atom_bidi;
    case STZJID_BAD_LOCALPART: return atom_bad_localpart;
    case STZJID_BAD_DOMAIN: return atom_bad_domain;
    case STZJID_BAD_RESOURCE: return atom_bad_resource;
    default: return atom_prohibited;
    }
}

static ERL_NIF_TERM prep_error(stzprep_result r)
{
    switch (r) {
    case STZPREP_INVALID_UTF8: return atom_invalid_utf8;
    case STZPREP_TOO_LONG: return atom_too_long;
    case STZPREP_UNASSIGNED: return atom_unassigned;
    case STZPREP_BIDI: return atom_bidi;
    default: return atom_prohibited;
    }
}

static int all_ascii(const unsigned char *p, size_t n)
{
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc < 0x80;
}

/* out as a term: the input term itself when equal. */
static ERL_NIF_TERM result_binary(ErlNifEnv *env, ERL_NIF_TERM input,
                                  const ErlNifBinary *in,
                                  const unsigned char *out, size_t len)
{
    if (len == in->size && memcmp(out, in->data, len) == 0)
        return input;
    ERL_NIF_TERM t;
    unsigned char *p = enif_make_new_binary(env, len, &t);
    if (len)
        memcpy(p, out, len);
    return t;
}

/* prep(Mode, Binary) -> Binary | Reason */
static ERL_NIF_TERM prep(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    int mode;
    ErlNifBinary in;
    if (!enif_get_int(env, argv[0], &mode) ||
        (mode & ~WIDE) >= STZPREP_PROFILES || mode < 0 ||
        !enif_inspect_binary(env, argv[1], &in))
        return enif_make_badarg(env);
    stzprep_profile profile = (stzprep_profile)(mode & ~WIDE);
    if (in.size > STZPREP_MAX_IN)
        return atom_too_long;
    unsigned char ascii_out[STZPREP_MAX_IN];
    stzprep_result r;
    if (stzprep_ascii(profile, in.data, in.size, ascii_out, &r))
        return r == STZPREP_OK
                   ? result_binary(env, argv[1], &in, ascii_out, in.size)
                   : prep_error(r);
    size_t cap = (mode & WIDE) ? in.size * STZPREP_OUT_PER_BYTE
                               : STZJID_MAX_PART;
    size_t need = STZPREP_WORK_BYTES(in.size) + cap;
    uint32_t stack[(STZPREP_WORK_BYTES(STACK_IN) +
                    STACK_IN * STZPREP_OUT_PER_BYTE) / 4 + 1];
    uint32_t *mem = need <= sizeof stack ? stack : enif_alloc(need);
    if (!mem)
        return atom_enomem;
    stzprep_work work;
    stzprep_work_init(&work, mem, in.size);
    unsigned char *out = (unsigned char *)mem + STZPREP_WORK_BYTES(in.size);
    size_t out_len;
    r = stzprep(profile, in.data, in.size, out, cap, &out_len, &work);
    ERL_NIF_TERM result = r == STZPREP_OK
                              ? result_binary(env, argv[1], &in, out, out_len)
                              : prep_error(r);
    if (mem != stack)
        enif_free(mem);
    return result;
}

/* A work area for parts of up to in_len bytes: none for ASCII input
 * (stzprep never touches it then), else on the stack or allocated. */
typedef struct scratch {
    uint32_t stack[STZPREP_WORK_BYTES(STACK_IN) / 4 + 1];
    uint32_t *mem;
} scratch;

static int scratch_init(scratch *s, stzprep_work *w, const ErlNifBinary *in,
                        size_t max_part)
{
    size_t n = in->size < max_part ? in->size : max_part;
    s->mem = s->stack;
    if (all_ascii(in->data, in->size))
        n = 0;
    else if (STZPREP_WORK_BYTES(n) > sizeof s->stack &&
             !(s->mem = enif_alloc(STZPREP_WORK_BYTES(n))))
        return 0;
    stzprep_work_init(w, s->mem, n);
    return 1;
}

static void scratch_free(scratch *s)
{
    if (s->mem != s->stack)
        enif_free(s->mem);
}

static ERL_NIF_TERM part_term(ErlNifEnv *env, ERL_NIF_TERM input,
                              const stzjid_part *p)
{
    if (!p->present)
        return enif_make_binary(env, &(ErlNifBinary){0});
    if (p->same)
        return enif_make_sub_binary(env, input, p->in_off, p->in_len);
    ERL_NIF_TERM t;
    unsigned char *d = enif_make_new_binary(env, p->len, &t);
    if (p->len)
        memcpy(d, p->data, p->len);
    return t;
}

/* parse(Binary) -> {Local, Domain, Resource} | Reason */
static ERL_NIF_TERM parse(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    ErlNifBinary in;
    if (!enif_inspect_binary(env, argv[0], &in))
        return enif_make_badarg(env);
    if (in.size > STZJID_MAX_JID)
        return atom_too_long;
    stzjid jid;
    stzprep_work work;
    scratch s;
    if (!scratch_init(&s, &work, &in, STZJID_MAX_PART))
        return atom_enomem;
    stzjid_result r = stzjid_parse(in.data, in.size, &jid, &work);
    scratch_free(&s);
    if (r != STZJID_OK)
        return jid_error(r);
    return enif_make_tuple3(env, part_term(env, argv[0], &jid.local),
                            part_term(env, argv[0], &jid.domain),
                            part_term(env, argv[0], &jid.resource));
}

/* part(Kind, Binary) -> Binary | Reason; Kind 0 localpart, 1 domain,
 * 2 resourcepart: one part alone, empty refused. */
static ERL_NIF_TERM part(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    int kind;
    ErlNifBinary in;
    if (!enif_get_int(env, argv[0], &kind) || kind < 0 || kind > 2 ||
        !enif_inspect_binary(env, argv[1], &in))
        return enif_make_badarg(env);
    if (in.size > STZJID_MAX_PART)
        return atom_too_long;
    stzjid_part p;
    stzprep_work work;
    scratch s;
    if (!scratch_init(&s, &work, &in, STZJID_MAX_PART))
        return atom_enomem;
    stzjid_result r =
        kind == 1 ? stzjid_domain(in.data, in.size, &p, &work)
                  : stzjid_prep_part(kind == 0 ? STZPREP_NODEPREP
                                               : STZPREP_RESOURCEPREP,
                                     in.data, in.size, &p, &work);
    scratch_free(&s);
    return r == STZJID_OK ? part_term(env, argv[1], &p) : jid_error(r);
}

static ErlNifFunc funcs[] = {
    {"prep", 2, prep, 0},
    {"parse", 1, parse, 0},
    {"part", 2, part, 0},
};

ERL_NIF_INIT(stanza_jid_nif, funcs, load, NULL, upgrade, NULL)
