/*
 * fuzz_core: libFuzzer harness for the streaming XML core (xml_core.c,
 * token_scan.c) on top of expat.
 *
 * Input layout (see HEADER_LEN): a fixed header chooses the options, the
 * chunk plan, an optional reset point and an optional injected failure;
 * the rest is the byte stream. Each input is parsed twice:
 *
 *   reference  the stream in one piece, with nothing failing;
 *   trial      the stream cut as the chunk plan says, optionally after
 *              feeding a prefix and resetting, optionally with one
 *              allocation or one builder call failing.
 *
 * The oracles, all checked on every input:
 *   - chunk independence: after the last byte, the trial's builder calls
 *     and error equal the reference's (see compare_runs for the two
 *     relaxations the stanza limit forces, and why);
 *   - before the final flush, the trial is never ahead of the reference:
 *     what it has committed is a prefix of what the reference committed;
 *   - a reset leaves no trace: what follows it equals a fresh core's run;
 *   - the builder contract of xml_core.h: calls balanced, no two text
 *     calls in a row, text between stanzas only when asked for and only
 *     there (its pieces joined in the trace, as they depend on the cuts), the stream header first and once, nothing after an
 *     error;
 *   - limits: no committed stanza deeper than max_depth, none whose bytes
 *     provably exceed max_stanza_size;
 *   - work: expat's reads stay linear in the input (stz_core_expat_reads);
 *   - errors: a failed core stays failed, its message is set, its offset
 *     lies inside the bytes fed;
 *   - memory: zero blocks and zero bytes outstanding after stz_core_free,
 *     whatever failed; an injected failure shows as STZ_ERR_NO_MEMORY.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c_src/xml_core.h"
#include "fuzz_support.h"

/* ---------------------------------------------------------------------- */
/* Traces                                                                  */

/* The builder the core reports to: it records and checks the contract. */
typedef struct tracer {
    /* every call, in order: the strict chunk-independence oracle */
    bytes raw;
    /* the stream's start and end and every completed stanza: what a
     * front-end actually hands on (half-built stanzas are discarded) */
    bytes committed;
    bytes pending; /* the stanza being built */
    /* raw.len after the last stream_text record: the next piece extends
     * that record while nothing else came between */
    size_t stream_text_end;
    size_t stream_text_at;

    const stz_options *opts;
    unsigned long depth; /* inside the current stanza; 1 = the stanza */
    int stream_started, stream_ended, after_text, stopped;
    /* where the last text record starts in raw and pending: with
     * text_pieces, the next piece extends it, so that traces compare
     * the same however expat split the text */
    size_t raw_text_at, pending_text_at;
    /* the fewest bytes the current stanza can have taken in the input */
    unsigned long long stanza_min;

    unsigned long calls;
    unsigned long fail_at; /* this builder call reports out of memory */
    int failed;
} tracer;

static void tracer_init(tracer *t, const stz_options *o, unsigned long fail_at)
{
    memset(t, 0, sizeof *t);
    t->opts = o;
    t->fail_at = fail_at;
}

static void tracer_free(tracer *t)
{
    free(t->raw.data);
    free(t->committed.data);
    free(t->pending.data);
}

/* The next call fails when the harness asked for it; a call after the
 * core has failed is a contract violation in itself. */
static int tracer_fails(tracer *t)
{
    FUZZ_CHECK(!t->stopped, "builder called after an error");
    t->calls++;
    if (t->fail_at && t->calls == t->fail_at) {
        t->failed = 1;
        return 1;
    }
    return 0;
}

static void record_attrs(bytes *b, const stz_attr *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bytes_record(b, '@', a[i].name, a[i].name_len);
        bytes_record(b, '=', a[i].value, a[i].value_len);
    }
}

/*
 * Lower bounds on the input bytes behind an event. The core reports names
 * as written and values after reference expansion and normalization, both
 * of which only shorten (a reference is longer than its character, CR LF
 * becomes LF), and the parser is forced to UTF-8, so the reported bytes
 * never outnumber the input bytes: "<" name (" " name "=''")* ">" at
 * least.
 */
static unsigned long long start_tag_min(size_t name_len, const stz_attr *a,
                                        size_t n)
{
    unsigned long long m = 2 + (unsigned long long)name_len;
    for (size_t i = 0; i < n; i++)
        m += 4 + (unsigned long long)a[i].name_len + a[i].value_len;
    return m;
}

static int on_stream_start(void *ctx, const char *name, size_t len,
                           const stz_attr *a, size_t n)
{
    tracer *t = ctx;
    if (tracer_fails(t))
        return 1;
    FUZZ_CHECK(!t->opts->element_mode, "stream header in element mode");
    FUZZ_CHECK(!t->stream_started, "second stream header");
    FUZZ_CHECK(t->depth == 0, "stream header inside a stanza");
    t->stream_started = 1;
    bytes_record(&t->raw, 'S', name, len);
    record_attrs(&t->raw, a, n);
    bytes_record(&t->committed, 'S', name, len);
    record_attrs(&t->committed, a, n);
    return 0;
}

static int on_element_start(void *ctx, const char *name, size_t len,
                            const stz_attr *a, size_t n)
{
    tracer *t = ctx;
    if (tracer_fails(t))
        return 1;
    FUZZ_CHECK(t->opts->element_mode || t->stream_started,
               "stanza before the stream header");
    FUZZ_CHECK(!t->stream_ended, "stanza after the stream's end");
    FUZZ_CHECK(t->depth < t->opts->max_depth || t->opts->max_depth == 0,
               "depth %lu reaches max_depth %lu", t->depth + 1,
               t->opts->max_depth);
    if (t->depth == 0)
        t->stanza_min = 0;
    t->depth++;
    t->after_text = 0;
    t->stanza_min += start_tag_min(len, a, n);
    bytes_record(&t->raw, '<', name, len);
    record_attrs(&t->raw, a, n);
    bytes_record(&t->pending, '<', name, len);
    record_attrs(&t->pending, a, n);
    return 0;
}

/* Appends s to the text record at `at', the last record of b. */
static void extend_text(bytes *b, size_t at, const char *s, size_t len)
{
    uint32_t n32;
    memcpy(&n32, b->data + at + 1, sizeof n32);
    FUZZ_CHECK(at + 1 + sizeof n32 + n32 == b->len, "text record not last");
    n32 += (uint32_t)len;
    memcpy(b->data + at + 1, &n32, sizeof n32);
    bytes_add(b, s, len);
}

static int on_text(void *ctx, const char *s, size_t len)
{
    tracer *t = ctx;
    if (tracer_fails(t))
        return 1;
    FUZZ_CHECK(t->depth > 0, "text outside a stanza");
    FUZZ_CHECK(!t->after_text || t->opts->text_pieces,
               "two text calls in a row");
    FUZZ_CHECK(len > 0, "empty text");
    t->stanza_min += len;
    if (t->after_text) {
        extend_text(&t->raw, t->raw_text_at, s, len);
        extend_text(&t->pending, t->pending_text_at, s, len);
        return 0;
    }
    t->after_text = 1;
    t->raw_text_at = t->raw.len;
    t->pending_text_at = t->pending.len;
    bytes_record(&t->raw, 'T', s, len);
    bytes_record(&t->pending, 'T', s, len);
    return 0;
}

static int on_element_end(void *ctx, int stanza_done)
{
    tracer *t = ctx;
    if (tracer_fails(t))
        return 1;
    FUZZ_CHECK(t->depth > 0, "end without a start");
    FUZZ_CHECK(!stanza_done == (t->depth != 1),
               "stanza_done %d at depth %lu", stanza_done, t->depth);
    t->depth--;
    t->after_text = 0;
    t->stanza_min += 1; /* the '/' of "</x>" or "<x/>" at least */
    bytes_record(&t->raw, stanza_done ? '.' : '/', "", 0);
    bytes_record(&t->pending, stanza_done ? '.' : '/', "", 0);
    if (stanza_done) {
        unsigned long long max = t->opts->max_stanza_size;
        FUZZ_CHECK(!max || t->stanza_min <= max,
                   "a stanza of at least %llu bytes passed a %llu limit",
                   t->stanza_min, max);
        bytes_add(&t->committed, t->pending.data, t->pending.len);
        t->pending.len = 0;
    }
    return 0;
}

static int on_stream_end(void *ctx, const char *name, size_t len)
{
    tracer *t = ctx;
    if (tracer_fails(t))
        return 1;
    FUZZ_CHECK(!t->opts->element_mode, "stream end in element mode");
    FUZZ_CHECK(t->stream_started && !t->stream_ended && t->depth == 0,
               "stream end out of place");
    t->stream_ended = 1;
    bytes_record(&t->raw, 'E', name, len);
    bytes_record(&t->committed, 'E', name, len);
    return 0;
}

/* Text between stanzas (stz_options.stream_text). */
static int on_stream_text(void *ctx, const char *s, size_t len)
{
    tracer *t = ctx;
    if (tracer_fails(t))
        return 1;
    FUZZ_CHECK(t->opts->stream_text, "stream text not asked for");
    FUZZ_CHECK(!t->opts->element_mode, "stream text in element mode");
    FUZZ_CHECK(t->stream_started && !t->stream_ended && t->depth == 0,
               "stream text out of place");
    FUZZ_CHECK(len > 0, "empty stream text");
    if (t->raw.len > 0 && t->stream_text_end == t->raw.len) {
        /* extend the record: tag, 32-bit length, bytes (fuzz_support.h) */
        unsigned char *n32p = t->raw.data + t->stream_text_at + 1;
        uint32_t n32;
        memcpy(&n32, n32p, sizeof n32);
        n32 += (uint32_t)len;
        memcpy(n32p, &n32, sizeof n32);
        bytes_add(&t->raw, s, len);
    } else {
        t->stream_text_at = t->raw.len;
        bytes_record(&t->raw, 'C', s, len);
    }
    t->stream_text_end = t->raw.len;
    return 0;
}

/* Called on an error (then nothing may follow) and on a reset (the
 * harness then allows calls again). */
static void on_discard(void *ctx)
{
    tracer *t = ctx;
    t->stopped = 1;
    bytes_record(&t->raw, 'D', "", 0);
    t->pending.len = 0;
    t->depth = 0;
    t->after_text = 0;
}

/* ---------------------------------------------------------------------- */
/* The input                                                               */

/*
 * Header bytes:
 *   0     flags: bit 0 element mode, bit 1 drop comments and PIs,
 *         bit 2 feed a prefix and reset first, bit 3 inject a failure,
 *         bit 4 the failure hits a builder call (else an allocation),
 *         bit 5 the fast_xml compat's options (stream_text,
 *         keep_default_undeclaration), bit 6 text_pieces
 *   1     low nibble: max_stanza_size (index into stanza_limits);
 *         high nibble: max_depth (index into depth_limits)
 *   2-3   reset point (modulo the stream's length + 1)
 *   4-5   which allocation or builder call fails (1-based)
 *   6-11  chunk plan, used cyclically (see chunk_len)
 */
#define HEADER_LEN 12
#define PLAN_LEN 6

/* 0 (no limit) half the time; small limits that the inputs here can
 * reach; the tests' 40; and the values around the core's own constants
 * (4096: DEFER_MIN, 65536: MIN_HEADER_LIMIT in xml_core.c). */
static const unsigned long long stanza_limits[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 16, 40, 100, 300, 1000, 4096, 65536};
static const unsigned long depth_limits[16] = {
    1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 16, 32, 100, 1000, 100000};

typedef struct setup {
    stz_options opts;
    int reset;
    size_t reset_at;
    unsigned long alloc_fail_at, builder_fail_at;
    uint8_t plan[PLAN_LEN];
    const char *stream;
    size_t len;
} setup;

/* Plan bytes below 0x80 are that many bytes (0: an empty feed, then one
 * byte, so the empty case is exercised and the run still ends); from
 * 0x80 on, multiples of 64 up to 8 KB, past the core's DEFER_MIN. */
static size_t chunk_len(uint8_t b)
{
    return b < 0x80 ? b : (size_t)(b - 0x7F) * 64;
}

static setup decode_setup(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size < HEADER_LEN ? size : HEADER_LEN};
    setup s;
    memset(&s, 0, sizeof s);
    uint8_t flags = fuzz_u8(&in);
    uint8_t limits = fuzz_u8(&in);
    uint16_t reset_at = fuzz_u16(&in);
    uint16_t fail_at = fuzz_u16(&in);
    for (int i = 0; i < PLAN_LEN; i++)
        s.plan[i] = fuzz_u8(&in);
    s.opts.element_mode = flags & 1;
    s.opts.text_pieces = (flags & 64) != 0;
    s.opts.restricted = flags & 2 ? STZ_RESTRICTED_DROP : STZ_RESTRICTED_REJECT;
    s.opts.stream_text = (flags & 32) != 0;
    s.opts.keep_default_undeclaration = (flags & 32) != 0;
    s.opts.max_stanza_size = stanza_limits[limits & 15];
    s.opts.max_depth = depth_limits[limits >> 4];
    s.stream = size > HEADER_LEN ? (const char *)data + HEADER_LEN : "";
    s.len = size > HEADER_LEN ? size - HEADER_LEN : 0;
    s.reset = (flags & 4) != 0;
    s.reset_at = reset_at % (s.len + 1);
    if (flags & 8) {
        if (flags & 16)
            s.builder_fail_at = fail_at + 1u;
        else
            s.alloc_fail_at = fail_at + 1u;
    }
    return s;
}

/* ---------------------------------------------------------------------- */
/* Runs                                                                    */

/* Where a run ended, before and after the final flush. */
typedef struct outcome {
    stz_error_kind kind_before_flush;
    bytes committed_before_flush;
    stz_error_kind kind;
    unsigned long long reads;
} outcome;

/* The work bound: a feed while expat holds less than the core's
 * DEFER_MIN (4096, xml_core.c) re-reads at most that much, and deferred
 * re-reads are paid for by the bytes that waited; so expat reads at most
 * DEFER_MIN per feed plus a small multiple of the input. Keep in step
 * with DEFER_MIN. */
#define CORE_DEFER_MIN 4096ULL

/* Checks what stz_core_error promises about a failed core. */
static void check_failed_core(stz_core *c, size_t fed)
{
    const stz_error *e = stz_core_error(c);
    if (e->kind == STZ_ERR_NONE)
        return;
    FUZZ_CHECK(e->message != NULL, "error without a message");
    FUZZ_CHECK(e->offset >= 0 && (unsigned long long)e->offset <= fed,
               "error offset %lld outside the %zu bytes fed", e->offset, fed);
    FUZZ_CHECK(stz_core_feed(c, "<a/>", 4, 0) == -1,
               "a failed core accepted more input");
}

/* Feeds s[0..len) cut by the plan (plan NULL: in one piece); the last
 * piece is final in element mode. Returns the number of feed calls. */
static unsigned long feed_all(stz_core *c, const setup *s, const char *data,
                              size_t len, const uint8_t *plan, size_t *fed)
{
    unsigned long feeds = 0;
    size_t at = 0, step = 0;
    int final = s->opts.element_mode;
    *fed = 0;
    do {
        size_t n = len - at;
        if (plan) {
            size_t want = chunk_len(plan[step++ % PLAN_LEN]);
            if (want == 0) {
                feeds++;
                if (stz_core_feed(c, data + at, 0, 0))
                    break;
                want = 1;
            }
            if (want < n)
                n = want;
        }
        feeds++;
        *fed = at + n; /* a failing call was still given its bytes */
        if (stz_core_feed(c, data + at, n, final && at + n == len))
            break;
        at += n;
    } while (at < len);
    return feeds;
}

/*
 * One run: optional prefix and reset, then the whole stream, then (in
 * stream mode) a final empty feed, which makes the core hand expat
 * whatever it was holding back; without it a trial could legitimately be
 * behind the reference (bytes deferred, not yet parsed).
 */
static void run(const setup *s, const uint8_t *plan, int reset,
                unsigned long alloc_fail_at, unsigned long builder_fail_at,
                tracer *t, outcome *out, const bytes *reference_committed)
{
    tracer_init(t, &s->opts, builder_fail_at);
    memset(out, 0, sizeof *out);
    fuzz_mem_reset(alloc_fail_at);
    stz_builder b = {t,      on_stream_start, on_element_start, on_text,
                     on_element_end, on_stream_end, on_discard,
                     on_stream_text};
    stz_core *c = stz_core_new(&(stz_allocator){fuzz_alloc, fuzz_realloc,
                                                fuzz_free},
                               &s->opts, &b);
    if (!c) {
        FUZZ_CHECK(fuzz_mem.failed, "stz_core_new failed on its own");
        FUZZ_CHECK(fuzz_mem.blocks == 0 && fuzz_mem.bytes == 0,
                   "a failed stz_core_new leaked %ld blocks", fuzz_mem.blocks);
        out->kind = out->kind_before_flush = STZ_ERR_NO_MEMORY;
        return;
    }
    size_t fed;
    if (reset) {
        feed_all(c, s, s->stream, s->reset_at, plan, &fed);
        check_failed_core(c, fed);
        /* Only what was fed can have been committed, and the reference
         * saw the same bytes first. */
        if (!fuzz_mem.failed && !t->failed)
            FUZZ_CHECK(bytes_is_prefix(&t->committed, reference_committed),
                       "a prefix committed what the whole stream did not");
        stz_core_reset(c);
        /* The reset's discard is the only trace the prefix may leave. */
        t->raw.len = t->committed.len = t->pending.len = 0;
        t->stream_text_end = 0;
        t->stream_started = t->stream_ended = t->stopped = 0;
        /* A failure injected in the prefix must be wiped out by the
         * reset: the rest is then held to the full oracle. One that has
         * not struck yet still may. */
        if (t->failed)
            t->failed = 0, t->fail_at = 0;
        if (fuzz_mem.failed)
            fuzz_mem.failed = 0, fuzz_mem.fail_at = 0;
    }
    unsigned long feeds = feed_all(c, s, s->stream, s->len, plan, &fed);
    out->kind_before_flush = stz_core_error(c)->kind;
    bytes_add(&out->committed_before_flush, t->committed.data,
              t->committed.len);
    if (!s->opts.element_mode && out->kind_before_flush == STZ_ERR_NONE) {
        feeds++;
        stz_core_feed(c, "", 0, 1);
    }
    out->kind = stz_core_error(c)->kind;
    out->reads = stz_core_expat_reads(c);
    check_failed_core(c, s->len);
    if (!fuzz_mem.failed && !t->failed)
        FUZZ_CHECK(out->reads <= feeds * CORE_DEFER_MIN + 3ULL * s->len,
                   "expat read %llu bytes for %zu in %lu feeds", out->reads,
                   s->len, feeds);
    stz_core_free(c);
    FUZZ_CHECK(fuzz_mem.blocks == 0 && fuzz_mem.bytes == 0,
               "%ld blocks, %zu bytes outstanding after stz_core_free",
               fuzz_mem.blocks, fuzz_mem.bytes);
}

/*
 * The trial against the reference. Without a stanza limit everything
 * must match exactly, every builder call included.
 *
 * With a limit, a cut can only make the core refuse sooner: after each
 * feed it counts the bytes expat holds back against the limit, so a cut
 * inside an oversized stanza can give STZ_ERR_TOO_BIG before the
 * reference reached that stanza's end (or its malformed byte), and the
 * builder calls of that half-built stanza differ before the discard. So
 * with a limit: the committed output must match, and the error kinds
 * must match unless the trial's is TOO_BIG.
 */
/* Where a trace's last record starts and ends when it is text ('C',
 * between stanzas, or 'T', inside one: text_pieces) and only the discard
 * record of the failure ('D', 4-byte length, no bytes) or nothing follows
 * it; otherwise an empty range before that discard record, or at the end
 * of the trace. Records are walked from the start: a text record's bytes
 * may hold anything, a 'D' included. */
static void text_before_error(const tracer *t, size_t *at, size_t *end)
{
    size_t len = t->raw.len, last = len, before_last = len;
    for (size_t pos = 0; pos + 5 <= len;) {
        uint32_t n32;
        memcpy(&n32, t->raw.data + pos + 1, sizeof n32);
        before_last = last;
        last = pos;
        pos += 5 + (size_t)n32;
    }
    size_t tail = len; /* where the trailing discard record starts */
    size_t text = last; /* the candidate text record */
    if (last < len && t->raw.data[last] == 'D' && len - last == 5) {
        tail = last;
        text = before_last;
    }
    if (text < tail && (t->raw.data[text] == 'C' || t->raw.data[text] == 'T')) {
        *at = text;
        *end = tail;
    } else {
        *at = *end = tail;
    }
}

/* The two traces are the same once the text before each one's error is
 * cut out of it. */
static int same_but_text_before_error(const tracer *a, const tracer *b)
{
    size_t a_at, a_end, b_at, b_end;
    text_before_error(a, &a_at, &a_end);
    text_before_error(b, &b_at, &b_end);
    return a_at == b_at && a->raw.len - a_end == b->raw.len - b_end &&
           memcmp(a->raw.data, b->raw.data, a_at) == 0 &&
           memcmp(a->raw.data + a_end, b->raw.data + b_end,
                  a->raw.len - a_end) == 0;
}

/* Prints a trace, one record per line, when FUZZ_CORE_DUMP is set: what
 * a failing input's two runs did, for whoever reproduces it. */
static void dump_trace(const char *label, const bytes *b)
{
    if (!getenv("FUZZ_CORE_DUMP"))
        return;
    fprintf(stderr, "%s (%zu bytes):\n", label, b->len);
    for (size_t at = 0; at + 5 <= b->len;) {
        uint32_t n32;
        memcpy(&n32, b->data + at + 1, sizeof n32);
        fprintf(stderr, "  %c %u \"", b->data[at], (unsigned)n32);
        for (uint32_t i = 0; i < n32 && at + 5 + i < b->len; i++) {
            unsigned char ch = b->data[at + 5 + i];
            fprintf(stderr, ch >= 32 && ch < 127 && ch != '"' ? "%c" : "\\x%02x",
                    ch);
        }
        fprintf(stderr, "\"\n");
        at += 5 + (size_t)n32;
    }
}

static void compare_runs(const setup *s, const tracer *ref,
                         const outcome *ref_out, const tracer *trial,
                         const outcome *trial_out)
{
    int limited = s->opts.max_stanza_size != 0;
    dump_trace("reference", &ref->raw);
    dump_trace("trial", &trial->raw);
    FUZZ_CHECK(bytes_is_prefix(&trial_out->committed_before_flush,
                               &ref->committed),
               "the cut stream committed what the whole one did not");
    /* A cut may let expat see an error sooner: with the whole stream in
     * one piece it can still be waiting for bytes that decide a token
     * (at the very start, "\n\0" could yet be UTF-16 to it); the flush
     * settles that, and the final comparison holds them to the same end. */
    if (trial_out->kind_before_flush != STZ_ERR_NONE &&
        ref_out->kind_before_flush != STZ_ERR_NONE)
        FUZZ_CHECK(trial_out->kind_before_flush == ref_out->kind_before_flush ||
                       (limited &&
                        trial_out->kind_before_flush == STZ_ERR_TOO_BIG),
                   "cut stream failed with %d before the flush, whole with %d",
                   trial_out->kind_before_flush, ref_out->kind_before_flush);
    if (limited) {
        FUZZ_CHECK(trial_out->kind == ref_out->kind ||
                       (trial_out->kind == STZ_ERR_TOO_BIG &&
                        ref_out->kind != STZ_ERR_NONE),
                   "error kind %d cut, %d whole", trial_out->kind,
                   ref_out->kind);
        FUZZ_CHECK(bytes_equal(&trial->committed, &ref->committed),
                   "committed output differs (%zu vs %zu bytes)",
                   trial->committed.len, ref->committed.len);
    } else {
        FUZZ_CHECK(trial_out->kind == ref_out->kind,
                   "error kind %d cut, %d whole", trial_out->kind,
                   ref_out->kind);
        /* Text between stanzas (stream_text), and with text_pieces the
         * text inside a stanza, goes to the builder as expat reports it.
         * Before an error, how much of it was reported depends
         * on the cut: in one buffer expat finds "]]>" or a bad byte before
         * it reports the characters in front of it; cut before them, it
         * reports those first. So when the run fails, the text right before
         * the error is left out of the comparison (the error itself and
         * everything before that text must still match). */
        int same = (s->opts.stream_text || s->opts.text_pieces) &&
                           ref_out->kind != STZ_ERR_NONE
                       ? same_but_text_before_error(trial, ref)
                       : bytes_equal(&trial->raw, &ref->raw);
        FUZZ_CHECK(same,
                   "builder calls differ (%zu vs %zu bytes of trace)",
                   trial->raw.len, ref->raw.len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup s = decode_setup(data, size);
    tracer ref, trial;
    outcome ref_out, trial_out;

    run(&s, NULL, 0, 0, 0, &ref, &ref_out, NULL);
    /* The whole stream must also be its own prefix (the flush aside). */
    FUZZ_CHECK(bytes_is_prefix(&ref_out.committed_before_flush, &ref.committed),
               "the final flush took back committed output");

    unsigned long alloc_fail = s.alloc_fail_at, builder_fail = s.builder_fail_at;
    run(&s, s.plan, s.reset, alloc_fail, builder_fail, &trial, &trial_out,
        &ref.committed);
    int injected = fuzz_mem.failed || trial.failed;
    if (!injected) {
        compare_runs(&s, &ref, &ref_out, &trial, &trial_out);
    } else {
        /* Failure after or before the reset. Before: the reset must have
         * wiped it out, so the rest is an ordinary trial; after: the run
         * stops with NO_MEMORY, having committed only what it should. */
        dump_trace("reference, committed", &ref.committed);
        dump_trace("trial, committed", &trial.committed);
        FUZZ_CHECK(bytes_is_prefix(&trial.committed, &ref.committed),
                   "a run with a failure committed what a clean run did not");
        FUZZ_CHECK(trial_out.kind == STZ_ERR_NO_MEMORY ||
                       trial_out.kind == ref_out.kind ||
                       (s.opts.max_stanza_size && trial_out.kind == STZ_ERR_TOO_BIG),
                   "an injected failure gave error kind %d", trial_out.kind);
    }
    tracer_free(&ref);
    tracer_free(&trial);
    free(ref_out.committed_before_flush.data);
    free(trial_out.committed_before_flush.data);
    return 0;
}
