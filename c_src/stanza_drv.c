/*
 * stanza_drv: the streaming parser as a port driver (wrapped by
 * stanza_port.erl). One port per stream, owned by the connection process
 * and closed with it, as ejabberd 2.x's expat_erl was; but the parsing is
 * xml_core's, the very code behind the NIF, and whole stanzas are built
 * here (drv_builder) and sent as terms.
 *
 * Protocol (stanza_port is the only intended client):
 *   port_command(Port, Bytes)   parse; the owner receives
 *                               {stanza_port, Port, more, Events} zero or
 *                               more times, then {stanza_port, Port, done,
 *                               Events} (more_marked and done_marked, and
 *                               fragment messages for big stanzas: see
 *                               drv_builder.h). A caller that is not the
 *                               owner gets {stanza_port, Port, not_owner}.
 *   port_control(Port, 1, Opts) configure (before any data): Format:8,
 *                               Drop:8, ElementMode:8, MaxDepth:64,
 *                               MaxStanzaSize:64 (0 = none), big-endian.
 *   port_control(Port, 2, _)    reset.
 *   port_control(Port, 3, _)    statistics (see stats_reply).
 *   port_control(Port, 4, _)    continue after a `more' message.
 * Every control replies with a status byte first: 0 ok, 1 not owner,
 * 2 bad argument, 3 out of memory.
 *
 * Scheduling. Bytes are queued with driver_enqv (binaries are referenced,
 * not copied) and fed to the core in slices. When the slice of the
 * scheduler is spent, or about 1 ms has passed, the events so far go out
 * as a `more' message and the callback returns. The owner, waiting in
 * stanza_port:parse/2, yields its scheduler and asks for the rest with
 * the continue control. A zero driver timer would do the same without
 * the owner's help, but it fires only at the next timer tick: measured,
 * about 0.5 ms lost per millisecond of parsing on a 10 MB input.
 */
#include <erl_driver.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "drv_alloc.h"
#include "drv_builder.h"
#include "grow.h"
#include "stanza_contract.h"
#include "time_budget.h"
#include "xml_core.h"

#define SLICE_BYTES 8192
#define BUDGET_NS 1000000LL

enum control_command {
    CMD_OPTIONS = 1,
    CMD_RESET = 2,
    CMD_STATS = 3,
    CMD_CONTINUE = 4
};
enum control_status {
    STATUS_OK = 0,
    STATUS_NOT_OWNER = 1,
    STATUS_BADARG = 2,
    STATUS_NO_MEMORY = 3
};
#define OPTIONS_BYTES (3 + 8 + 8)

typedef struct port_stats {
    ErlDrvUInt64 bytes;       /* parsed                                */
    ErlDrvUInt64 messages;    /* sent to the owner                     */
    ErlDrvUInt64 busy_ns;     /* in callbacks that parse               */
    ErlDrvUInt64 deliver_ns;  /* of which in erl_drv_output_term       */
    ErlDrvUInt64 yields;      /* `more' messages that asked to continue */
    ErlDrvUInt64 fragments;   /* big stanzas' parts sent ahead          */
} port_stats;

typedef struct port_state {
    ErlDrvPort port;
    ErlDrvTermData port_id;
    stz_options options;
    stz_format format;
    stz_core *core;
    drv_builder builder;
    int configured; /* options may change until the first parse */

    /* Bytes still to parse of each queued command, oldest first. */
    size_t *pending;
    size_t pending_head;
    size_t pending_count;
    size_t pending_cap;

    /* The reason of a failed core, kept for the specs that point at it. */
    ErlDrvUInt64 error_line, error_column;
    ErlDrvSInt64 error_offset;

    port_stats stats;
} port_state;

static drv_atoms atoms;
static ErlDrvTermData atom_not_owner;
/* The names of stanza_contract.h as atoms. */
static ErlDrvTermData reason_atoms[STZ_ERROR_KINDS];
static ErlDrvTermData restricted_atoms[STZ_RESTRICTED_KINDS];
static ErlDrvTermData not_well_formed_keys[STZ_NOT_WELL_FORMED_KEYS];
static atomic_long live_ports;
static atomic_int locked_in_memory;

/* ---------------------------------------------------------------------- */
/* Error events                                                            */

#define ERROR_WORDS_MAX 40

/* {xmlstreamerror, Reason} as spec words into w (ERROR_WORDS_MAX of
 * them); returns how many. Reason as stanza_contract.h says, the same
 * terms as the NIF's error_reason. */
static size_t error_spec(port_state *s, ErlDrvTermData *w)
{
    static const char too_big[] = STZ_LEGACY_TOO_BIG;
    const stz_error *e = stz_core_error(s->core);
    size_t n = 0;
#define PUT(x) (w[n++] = (ErlDrvTermData)(x))
    PUT(ERL_DRV_ATOM);
    PUT(atoms.xmlstreamerror);
    switch (stz_reason_shape_of(s->format, e)) {
    case STZ_REASON_LEGACY_TOO_BIG:
        PUT(ERL_DRV_STRING);
        PUT(too_big);
        PUT(sizeof too_big - 1);
        break;
    case STZ_REASON_LEGACY_CODE:
        PUT(ERL_DRV_INT);
        PUT((ErlDrvSInt)stz_legacy_code(e));
        PUT(ERL_DRV_STRING);
        PUT(e->message);
        PUT(strlen(e->message));
        PUT(ERL_DRV_TUPLE);
        PUT(2);
        break;
    case STZ_REASON_ATOM:
        PUT(ERL_DRV_ATOM);
        PUT(reason_atoms[e->kind]);
        break;
    case STZ_REASON_RESTRICTED:
        PUT(ERL_DRV_ATOM);
        PUT(reason_atoms[STZ_ERR_RESTRICTED]);
        PUT(ERL_DRV_ATOM);
        PUT(restricted_atoms[e->restricted]);
        PUT(ERL_DRV_TUPLE);
        PUT(2);
        break;
    case STZ_REASON_NOT_WELL_FORMED:
        /* The spec points at the numbers: they must outlive the send. */
        s->error_line = e->line;
        s->error_column = e->column;
        s->error_offset = e->offset;
        PUT(ERL_DRV_ATOM);
        PUT(reason_atoms[STZ_ERR_NOT_WELL_FORMED]);
        PUT(ERL_DRV_ATOM);
        PUT(not_well_formed_keys[0]); /* code */
        PUT(ERL_DRV_INT);
        PUT((ErlDrvSInt)e->code);
        PUT(ERL_DRV_ATOM);
        PUT(not_well_formed_keys[1]); /* message */
        PUT(ERL_DRV_BUF2BINARY);
        PUT(e->message);
        PUT(strlen(e->message));
        PUT(ERL_DRV_ATOM);
        PUT(not_well_formed_keys[2]); /* line */
        PUT(ERL_DRV_UINT64);
        PUT(&s->error_line);
        PUT(ERL_DRV_ATOM);
        PUT(not_well_formed_keys[3]); /* column */
        PUT(ERL_DRV_UINT64);
        PUT(&s->error_column);
        PUT(ERL_DRV_ATOM);
        PUT(not_well_formed_keys[4]); /* offset */
        PUT(ERL_DRV_INT64);
        PUT(&s->error_offset);
        PUT(ERL_DRV_MAP);
        PUT(STZ_NOT_WELL_FORMED_KEYS);
        PUT(ERL_DRV_TUPLE);
        PUT(2);
        break;
    }
    PUT(ERL_DRV_TUPLE);
    PUT(2);
#undef PUT
    return n;
}

/* The core failed: its error is the last event of the command. If even
 * that cannot be queued, the owner still gets its done message, and the
 * next command reports the error again. */
static void add_error_event(port_state *s)
{
    ErlDrvTermData words[ERROR_WORDS_MAX];
    size_t n = error_spec(s, words);
    (void)drv_builder_add_event(&s->builder, words, n);
}

/* ---------------------------------------------------------------------- */
/* Sending                                                                 */

static void send_events(port_state *s, int done)
{
    ErlDrvTime t0 = erl_drv_monotonic_time(ERL_DRV_NSEC);
    /* 0: the owner is gone, and the port with it: nothing to do. < 0: a
     * spec the runtime refused, a bug here. The owner would wait for its
     * reply forever; closing the port ends that wait with an error. */
    if (drv_builder_send(&s->builder, s->port_id, done) < 0)
        driver_failure_atom(s->port, "stanza_drv_bad_term_spec");
    s->stats.deliver_ns +=
        (ErlDrvUInt64)(erl_drv_monotonic_time(ERL_DRV_NSEC) - t0);
    s->stats.messages++;
}

/* A big open stanza goes out in a fragment (see drv_builder.h), after
 * the events before it. */
static void send_fragment_if_big(port_state *s)
{
    if (!drv_builder_wants_fragment(&s->builder))
        return;
    if (drv_builder_pending_events(&s->builder))
        send_events(s, 0);
    ErlDrvTime t0 = erl_drv_monotonic_time(ERL_DRV_NSEC);
    int rc = drv_builder_fragment(&s->builder, s->port_id);
    s->stats.deliver_ns +=
        (ErlDrvUInt64)(erl_drv_monotonic_time(ERL_DRV_NSEC) - t0);
    if (rc == -2)
        return; /* out of memory: the stanza goes out whole at its end */
    s->stats.messages++;
    s->stats.fragments++;
    if (rc < 0)
        driver_failure_atom(s->port, "stanza_drv_bad_term_spec");
}

static void send_to_caller(port_state *s, ErlDrvTermData caller,
                           ErlDrvTermData what)
{
    ErlDrvTermData spec[] = {ERL_DRV_ATOM, atoms.stanza_port,
                             ERL_DRV_PORT, s->port_id,
                             ERL_DRV_ATOM, what,
                             ERL_DRV_TUPLE, 3};
    (void)erl_drv_send_term(s->port_id, caller, spec,
                            (int)(sizeof spec / sizeof spec[0]));
}

/* ---------------------------------------------------------------------- */
/* The command queue                                                       */

static int push_pending(port_state *s, size_t bytes)
{
    if (s->pending_head > 0 && s->pending_count == 0)
        s->pending_head = 0;
    size_t end = s->pending_head + s->pending_count;
    if (end == s->pending_cap) {
        size_t *p = grow_array(s->pending, &s->pending_cap, end + 1,
                               sizeof *p, 4, driver_realloc);
        if (!p)
            return -1;
        s->pending = p;
    }
    s->pending[end] = bytes;
    s->pending_count++;
    return 0;
}

static void pop_pending(port_state *s)
{
    s->pending_head++;
    if (--s->pending_count == 0)
        s->pending_head = 0;
}

/* Drops the rest of the current command's bytes from the queue. */
static void skip_command(port_state *s)
{
    size_t *left = &s->pending[s->pending_head];
    if (*left)
        (void)driver_deq(s->port, (ErlDrvSizeT)*left);
    *left = 0;
}

/*
 * Feeds at most one slice of the current command to the core. When the
 * core fails, its error is queued as an event and the rest of the
 * command is dropped.
 */
static void feed_slice(port_state *s)
{
    size_t *left = &s->pending[s->pending_head];
    if (stz_core_error(s->core)->kind != STZ_ERR_NONE)
        return; /* reported already by process */
    int vlen;
    SysIOVec *iov = driver_peekq(s->port, &vlen);
    size_t n = 0;
    const char *data = "";
    if (iov && vlen > 0) {
        n = iov[0].iov_len;
        data = iov[0].iov_base;
    }
    if (n > *left)
        n = *left;
    if (n > SLICE_BYTES)
        n = SLICE_BYTES;
    if (n == 0 && *left > 0)
        *left = 0; /* the queue lost bytes it was given: never loop on it */
    /* parse_element ports see each command as one whole element. */
    int final = s->options.element_mode && n == *left;
    int rc = stz_core_feed(s->core, data, n, final);
    if (n)
        (void)driver_deq(s->port, (ErlDrvSizeT)n);
    *left -= n;
    s->stats.bytes += n;
    if (rc) {
        add_error_event(s);
        skip_command(s);
    }
}

/* time_budget's report, ctx being the port. */
static int consume_timeslice(void *port, int percent)
{
    return erl_drv_consume_timeslice((ErlDrvPort)port, percent);
}

/* Reports the time used to the scheduler; true when the callback should
 * give the scheduler back (its slice spent or about 1 ms gone). */
static int time_is_up(port_state *s, time_budget *budget)
{
    return time_budget_check(budget, erl_drv_monotonic_time(ERL_DRV_NSEC),
                             consume_timeslice, s->port);
}

/* Sends what is finished as `more': the owner yields, then continues. */
static void yield(port_state *s, ErlDrvTime started)
{
    send_events(s, 0);
    send_fragment_if_big(s);
    s->stats.yields++;
    s->stats.busy_ns +=
        (ErlDrvUInt64)(erl_drv_monotonic_time(ERL_DRV_NSEC) - started);
}

/*
 * Parses queued commands until they are done or the time is up. Each
 * finished command sends its done message. A failed core parses nothing
 * more: each command then reports the error again, until a reset.
 */
static void process(port_state *s)
{
    ErlDrvTime started = erl_drv_monotonic_time(ERL_DRV_NSEC);
    time_budget budget;
    time_budget_start(&budget, BUDGET_NS, started);
    while (s->pending_count > 0) {
        if (stz_core_error(s->core)->kind != STZ_ERR_NONE) {
            add_error_event(s);
            skip_command(s);
        }
        /* At least one feed: an empty command is a whole (empty) element
         * in element mode, and nothing otherwise. */
        int first = 1;
        while (first || s->pending[s->pending_head] > 0) {
            first = 0;
            feed_slice(s);
            if (s->pending[s->pending_head] > 0 &&
                time_is_up(s, &budget)) {
                yield(s, started);
                return;
            }
        }
        send_fragment_if_big(s);
        send_events(s, 1);
        pop_pending(s);
        if (s->pending_count > 0 && time_is_up(s, &budget)) {
            yield(s, started);
            return;
        }
    }
    (void)time_is_up(s, &budget);
    s->stats.busy_ns +=
        (ErlDrvUInt64)(erl_drv_monotonic_time(ERL_DRV_NSEC) - started);
}

/* ---------------------------------------------------------------------- */
/* Callbacks                                                               */

static int create_core(port_state *s)
{
    stz_core_free(s->core);
    drv_builder_free(&s->builder);
    drv_builder_init(&s->builder, &atoms, s->format, &drv_allocator);
    stz_builder ops = drv_builder_ops(&s->builder);
    s->core = stz_core_new(&drv_allocator, &s->options, &ops);
    return s->core ? 0 : -1;
}

static ErlDrvData drv_start(ErlDrvPort port, char *command)
{
    (void)command;
    port_state *s = driver_alloc(sizeof *s);
    if (!s)
        return ERL_DRV_ERROR_GENERAL;
    memset(s, 0, sizeof *s);
    s->port = port;
    s->port_id = driver_mk_port(port);
    s->format = STZ_FORMAT_BINARY;
    s->options.max_depth = 1024;
    drv_builder_init(&s->builder, &atoms, s->format, &drv_allocator);
    if (create_core(s)) {
        drv_builder_free(&s->builder);
        driver_free(s);
        return ERL_DRV_ERROR_GENERAL;
    }
    /* Loaded for good, as a linked-in driver is: no unload and reload
     * each time the process that loaded it is gone with its ports. */
    if (!atomic_exchange(&locked_in_memory, 1))
        driver_lock_driver(port);
    atomic_fetch_add(&live_ports, 1);
    return (ErlDrvData)s;
}

static void drv_stop(ErlDrvData handle)
{
    port_state *s = (port_state *)handle;
    stz_core_free(s->core);
    drv_builder_free(&s->builder);
    driver_free(s->pending);
    driver_free(s);
    atomic_fetch_sub(&live_ports, 1);
}

/* The port is closing with bytes queued: they will never be parsed. */
static void drv_flush(ErlDrvData handle)
{
    port_state *s = (port_state *)handle;
    ErlDrvSizeT queued = driver_sizeq(s->port);
    if (queued)
        (void)driver_deq(s->port, queued);
    s->pending_count = 0;
}

static int caller_is_owner(port_state *s)
{
    return driver_caller(s->port) == driver_connected(s->port);
}

/* No room even to remember the command: the owner gets the error the
 * core would give, and the stream is left as it was. */
static void refuse_out_of_memory(port_state *s)
{
    ErlDrvTermData w[] = {ERL_DRV_ATOM, atoms.xmlstreamerror,
                          ERL_DRV_ATOM, reason_atoms[STZ_ERR_NO_MEMORY],
                          ERL_DRV_TUPLE, 2};
    (void)drv_builder_add_event(&s->builder, w, sizeof w / sizeof w[0]);
    send_events(s, 1);
}

static void drv_outputv(ErlDrvData handle, ErlIOVec *ev)
{
    port_state *s = (port_state *)handle;
    if (!caller_is_owner(s)) {
        send_to_caller(s, driver_caller(s->port), atom_not_owner);
        return;
    }
    s->configured = 1;
    if (push_pending(s, (size_t)ev->size)) {
        refuse_out_of_memory(s);
        return;
    }
    if (ev->size > 0 && driver_enqv(s->port, ev, 0)) {
        s->pending_count--;
        refuse_out_of_memory(s);
        return;
    }
    process(s);
}

static ErlDrvUInt64 get_u64(const char *p)
{
    ErlDrvUInt64 v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (unsigned char)p[i];
    return v;
}

static void put_u64(char *p, ErlDrvUInt64 v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (char)(v & 0xff);
        v >>= 8;
    }
}

static int set_options(port_state *s, const char *buf, ErlDrvSizeT len)
{
    if (len != OPTIONS_BYTES || s->configured)
        return STATUS_BADARG;
    unsigned format = (unsigned char)buf[0];
    unsigned drop = (unsigned char)buf[1];
    unsigned element_mode = (unsigned char)buf[2];
    ErlDrvUInt64 max_depth = get_u64(buf + 3);
    ErlDrvUInt64 max_size = get_u64(buf + 11);
    if (!stz_format_valid(format) || drop > 1 || element_mode > 1 ||
        max_depth == 0 || max_depth > (ErlDrvUInt64)ULONG_MAX)
        return STATUS_BADARG;
    s->format = (stz_format)format;
    s->options.restricted = drop ? STZ_RESTRICTED_DROP : STZ_RESTRICTED_REJECT;
    s->options.element_mode = (int)element_mode;
    s->options.max_depth = (unsigned long)max_depth;
    s->options.max_stanza_size = max_size;
    return create_core(s) ? STATUS_NO_MEMORY : STATUS_OK;
}

static void reset(port_state *s)
{
    drv_flush((ErlDrvData)s);
    stz_core_reset(s->core);
    drv_builder_clear(&s->builder);
}

/* Status, then eight big-endian 64-bit counters: this port's bytes
 * parsed, messages sent, busy ns, of which delivering ns, yields and
 * fragments; the driver's bytes allocated and its live ports. */
#define STATS_COUNTERS 8
#define STATS_BYTES (1 + STATS_COUNTERS * 8)

static ErlDrvSSizeT stats_reply(port_state *s, char *r)
{
    r[0] = STATUS_OK;
    ErlDrvUInt64 v[STATS_COUNTERS] = {
        s->stats.bytes,
        s->stats.messages,
        s->stats.busy_ns,
        s->stats.deliver_ns,
        s->stats.yields,
        s->stats.fragments,
        (ErlDrvUInt64)drv_alloc_bytes(),
        (ErlDrvUInt64)atomic_load(&live_ports),
    };
    for (int i = 0; i < STATS_COUNTERS; i++)
        put_u64(r + 1 + 8 * i, v[i]);
    return STATS_BYTES;
}

static ErlDrvSSizeT drv_control(ErlDrvData handle, unsigned int command,
                                char *buf, ErlDrvSizeT len, char **rbuf,
                                ErlDrvSizeT rlen)
{
    port_state *s = (port_state *)handle;
    char *r = *rbuf;
    if (rlen < STATS_BYTES) {
        r = driver_alloc(STATS_BYTES);
        if (!r)
            return -1;
        *rbuf = r;
    }
    if (!caller_is_owner(s)) {
        r[0] = STATUS_NOT_OWNER;
        return 1;
    }
    switch (command) {
    case CMD_OPTIONS:
        r[0] = (char)set_options(s, buf, len);
        return 1;
    case CMD_RESET:
        reset(s);
        r[0] = STATUS_OK;
        return 1;
    case CMD_STATS:
        return stats_reply(s, r);
    case CMD_CONTINUE:
        process(s);
        r[0] = STATUS_OK;
        return 1;
    default:
        r[0] = STATUS_BADARG;
        return 1;
    }
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

static ErlDrvTermData atom(const char *name)
{
    return driver_mk_atom((char *)name);
}

static int drv_init(void)
{
    atoms.xmlelement = atom("xmlelement");
    atoms.xmlel = atom("xmlel");
    atoms.xmlcdata = atom("xmlcdata");
    atoms.xmlstreamstart = atom("xmlstreamstart");
    atoms.xmlstreamelement = atom("xmlstreamelement");
    atoms.xmlstreamend = atom("xmlstreamend");
    atoms.xmlstreamerror = atom("xmlstreamerror");
    atoms.stanza_port = atom("stanza_port");
    atoms.more = atom("more");
    atoms.done = atom("done");
    atoms.more_marked = atom("more_marked");
    atoms.done_marked = atom("done_marked");
    atoms.fragment = atom("fragment");
    atoms.open = atom("open");
    atoms.close = atom("close");
    atoms.stanza_fragments = atom("$stanza_fragments");
    atoms.stanza_dropped = atom("$stanza_dropped");
    atom_not_owner = atom("not_owner");
    for (int k = 0; k < STZ_ERROR_KINDS; k++)
        reason_atoms[k] = atom(stz_reason_atom_name((stz_error_kind)k));
    for (int k = 0; k < STZ_RESTRICTED_KINDS; k++)
        restricted_atoms[k] = atom(stz_restricted_name((stz_restricted_kind)k));
    for (int k = 0; k < STZ_NOT_WELL_FORMED_KEYS; k++)
        not_well_formed_keys[k] = atom(stz_not_well_formed_keys[k]);
    atomic_init(&live_ports, 0);
    return 0;
}

static ErlDrvEntry stanza_driver_entry = {
    .init = drv_init,
    .start = drv_start,
    .stop = drv_stop,
    .driver_name = "stanza_drv",
    .control = drv_control,
    .outputv = drv_outputv,
    .flush = drv_flush,
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
    .driver_flags = ERL_DRV_FLAG_USE_PORT_LOCKING,
};

DRIVER_INIT(stanza_drv)
{
    return &stanza_driver_entry;
}
