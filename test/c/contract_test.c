/*
 * contract_test: the pieces the NIF and the port driver share
 * (c_src/stanza_contract.[ch], c_src/time_budget.[ch]). The Erlang tests
 * check the terms each front-end builds; this checks the table and the
 * arithmetic they are built from, case by case.
 */
#include <string.h>

#include "../../c_src/stanza_contract.h"
#include "../../c_src/time_budget.h"
#include "test_support.h"

/* A scheduler that records what it was told. */
typedef struct fake_scheduler {
    int calls;
    int total;      /* percent reported in all */
    int last;       /* percent of the last report */
    int say_spent;  /* what consume_timeslice answers */
} fake_scheduler;

static int fake_report(void *ctx, int percent)
{
    fake_scheduler *f = ctx;
    f->calls++;
    f->total += percent;
    f->last = percent;
    return f->say_spent;
}

static void test_budget_reports_increments(void)
{
    fake_scheduler f = {0, 0, 0, 0};
    time_budget t;
    time_budget_start(&t, 1000, 5000);
    CHECK(!time_budget_check(&t, 5000, fake_report, &f));
    CHECK(f.calls == 0); /* nothing used: nothing reported */
    CHECK(!time_budget_check(&t, 5250, fake_report, &f));
    CHECK(f.calls == 1 && f.last == 25);
    CHECK(!time_budget_check(&t, 5259, fake_report, &f));
    CHECK(f.calls == 1); /* still 25%: no new report */
    CHECK(!time_budget_check(&t, 5600, fake_report, &f));
    CHECK(f.calls == 2 && f.last == 35 && f.total == 60);
    /* The budget used up: yield, and the report stops at 100%. */
    CHECK(time_budget_check(&t, 6000, fake_report, &f));
    CHECK(f.total == 100);
    CHECK(time_budget_check(&t, 50000, fake_report, &f));
    CHECK(f.calls == 3 && f.total == 100);
}

static void test_budget_yields_when_slice_spent(void)
{
    fake_scheduler f = {0, 0, 0, 1};
    time_budget t;
    time_budget_start(&t, 300000, 0);
    /* 10% of the budget, but the scheduler says its slice is spent. */
    CHECK(time_budget_check(&t, 30000, fake_report, &f));
    CHECK(f.calls == 1 && f.last == 10);
    /* No new percent: the scheduler is not asked, no yield before the
     * budget. */
    CHECK(!time_budget_check(&t, 30001, fake_report, &f));
    CHECK(f.calls == 1);
}

static void test_budget_huge_gap_is_clamped(void)
{
    fake_scheduler f = {0, 0, 0, 0};
    time_budget t;
    time_budget_start(&t, 1000000, 0);
    CHECK(time_budget_check(&t, 1000000LL * 1000000000LL, fake_report, &f));
    CHECK(f.calls == 1 && f.last == 100);
}

static void test_charge(void)
{
    CHECK(time_budget_charge(0, 300000) == 1);
    CHECK(time_budget_charge(50, 300000) == 1);
    CHECK(time_budget_charge(3000, 300000) == 1);
    CHECK(time_budget_charge(3001, 300000) == 2);
    CHECK(time_budget_charge(150000, 300000) == 50);
    CHECK(time_budget_charge(300000, 300000) == 100);
    CHECK(time_budget_charge(90000000, 300000) == 100);
}

static stz_error error_of(stz_error_kind kind)
{
    stz_error e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.message = "why";
    return e;
}

static void test_reason_shapes(void)
{
    static const stz_format modern[] = {STZ_FORMAT_BINARY, STZ_FORMAT_XMLEL};
    for (size_t i = 0; i < sizeof modern / sizeof modern[0]; i++) {
        stz_format f = modern[i];
        stz_error e = error_of(STZ_ERR_TOO_BIG);
        CHECK(stz_reason_shape_of(f, &e) == STZ_REASON_ATOM);
        e = error_of(STZ_ERR_TOO_DEEP);
        CHECK(stz_reason_shape_of(f, &e) == STZ_REASON_ATOM);
        e = error_of(STZ_ERR_NO_MEMORY);
        CHECK(stz_reason_shape_of(f, &e) == STZ_REASON_ATOM);
        e = error_of(STZ_ERR_RESTRICTED);
        CHECK(stz_reason_shape_of(f, &e) == STZ_REASON_RESTRICTED);
        e = error_of(STZ_ERR_NOT_WELL_FORMED);
        CHECK(stz_reason_shape_of(f, &e) == STZ_REASON_NOT_WELL_FORMED);
    }
    stz_error e = error_of(STZ_ERR_TOO_BIG);
    CHECK(stz_reason_shape_of(STZ_FORMAT_LEGACY, &e) ==
          STZ_REASON_LEGACY_TOO_BIG);
    static const stz_error_kind others[] = {
        STZ_ERR_TOO_DEEP, STZ_ERR_RESTRICTED, STZ_ERR_NOT_WELL_FORMED,
        STZ_ERR_NO_MEMORY};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        e = error_of(others[i]);
        CHECK(stz_reason_shape_of(STZ_FORMAT_LEGACY, &e) ==
              STZ_REASON_LEGACY_CODE);
    }
}

/* The names are the Erlang API (stanza_stream.erl's and stanza_port.erl's
 * documented reasons): a typo here changes what callers match. */
static void test_names(void)
{
    CHECK(!strcmp(stz_reason_atom_name(STZ_ERR_TOO_BIG), "stanza_too_big"));
    CHECK(!strcmp(stz_reason_atom_name(STZ_ERR_TOO_DEEP), "too_deep"));
    CHECK(!strcmp(stz_reason_atom_name(STZ_ERR_NO_MEMORY), "out_of_memory"));
    CHECK(!strcmp(stz_reason_atom_name(STZ_ERR_RESTRICTED),
                  "restricted_xml"));
    CHECK(!strcmp(stz_reason_atom_name(STZ_ERR_NOT_WELL_FORMED),
                  "not_well_formed"));
    CHECK(!strcmp(stz_restricted_name(STZ_RESTRICTED_COMMENT), "comment"));
    CHECK(!strcmp(stz_restricted_name(STZ_RESTRICTED_PI),
                  "processing_instruction"));
    CHECK(!strcmp(stz_restricted_name(STZ_RESTRICTED_DTD), "dtd"));
    CHECK(!strcmp(stz_restricted_name(STZ_RESTRICTED_ENTITY_REF),
                  "entity_reference"));
    static const char *const keys[] = {"code", "message", "line", "column",
                                       "offset"};
    for (int k = 0; k < STZ_NOT_WELL_FORMED_KEYS; k++)
        CHECK(!strcmp(stz_not_well_formed_keys[k], keys[k]));
    CHECK(!strcmp(STZ_LEGACY_TOO_BIG, "XML stanza is too big"));
}

static void test_legacy_code_and_formats(void)
{
    stz_error e = error_of(STZ_ERR_TOO_DEEP);
    CHECK(stz_legacy_code(&e) == 35); /* no expat code: XML_ERROR_ABORTED */
    e = error_of(STZ_ERR_NOT_WELL_FORMED);
    e.code = 4;
    CHECK(stz_legacy_code(&e) == 4);
    CHECK(stz_format_valid(0) && stz_format_valid(1) && stz_format_valid(2));
    CHECK(!stz_format_valid(3) && !stz_format_valid(255));
    CHECK(STZ_FORMAT_BINARY == 0 && STZ_FORMAT_LEGACY == 1 &&
          STZ_FORMAT_XMLEL == 2);
}

int main(void)
{
    test_budget_reports_increments();
    test_budget_yields_when_slice_spent();
    test_budget_huge_gap_is_clamped();
    test_charge();
    test_reason_shapes();
    test_names();
    test_legacy_code_and_formats();
    if (failures) {
        fprintf(stderr, "contract_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("contract_test: all checks passed\n");
    return 0;
}
