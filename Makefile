# stanza: the two commands users run are `make bench` and `make test`.
# Both install missing Debian packages when run as root (scripts/ensure-packages)
# and print the exact apt-get line otherwise.
REBAR ?= rebar3
ERL   ?= erl
CC    ?= cc
EBIN   = _build/default/lib/stanza/ebin

.PHONY: all compile test check-c check-sanitizers eunit dialyzer dep-test bench clean
.PHONY: fuzz fuzz-build fuzz-smoke fuzz-regress check-fuzz

all: compile

compile:
	@scripts/ensure-packages build
	$(REBAR) compile

## Tests: the C core under sanitizers and valgrind, EUnit (with the PropEr
## properties), Dialyzer, and a project that uses stanza as a dependency.
## Our own builds treat C warnings as errors: exported, WARN reaches
## c_src/Makefile through rebar3's compile hook too. A user's dependency
## build keeps c_src/Makefile's default (no -Werror).
STRICT_WARN = -Wall -Wextra -Werror
test: export WARN = $(STRICT_WARN)
compile: export WARN = $(STRICT_WARN)
test:
	@scripts/ensure-packages test
	$(MAKE) check-c
	$(MAKE) check-jid
	$(MAKE) check-fuzz
	$(REBAR) compile
	$(REBAR) eunit
	$(REBAR) ct --dir test
	$(REBAR) ct --dir _build/test/lib/fast_tls/test
	$(MAKE) dialyzer
	test/dep_app/check

## The C cores alone (no BEAM): the XML core, the serializer, the driver's
## block arena, the id, duplicate and tracker tables; each under
## ASan+UBSan, then under valgrind.
EXPAT_DEFERRAL = $$(grep -qs XML_SetReparseDeferralEnabled /usr/include/expat.h && echo -DSTZ_HAVE_REPARSE_DEFERRAL)
CORE_TEST_SRC  = test/c/core_test.c c_src/xml_core.c c_src/token_scan.c
ARENA_TEST_SRC = test/c/arena_test.c c_src/block_arena.c
SER_TEST_SRC   = test/c/serialize_test.c c_src/xml_serialize.c
IDS_TEST_SRC   = test/c/ids_test.c c_src/siphash.c c_src/id_gen.c \
                 c_src/dedup_table.c c_src/request_tracker.c
C_TEST_FLAGS   = -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -Wall -Wextra -Werror
C_TEST_ASAN    = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
VALGRIND       = valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=all
check-c:
	@mkdir -p _build/c
	$(CC) $(C_TEST_FLAGS) $(C_TEST_ASAN) \
	  $(EXPAT_DEFERRAL) -o _build/c/core_test_asan $(CORE_TEST_SRC) -lexpat
	_build/c/core_test_asan
	$(CC) $(C_TEST_FLAGS) \
	  $(EXPAT_DEFERRAL) -o _build/c/core_test $(CORE_TEST_SRC) -lexpat
	$(VALGRIND) _build/c/core_test
	$(CC) $(C_TEST_FLAGS) $(C_TEST_ASAN) -o _build/c/serialize_test_asan $(SER_TEST_SRC)
	_build/c/serialize_test_asan
	$(CC) $(C_TEST_FLAGS) $(C_TEST_ASAN) -DSTZ_SER_NO_SIMD -o _build/c/serialize_test_nosimd $(SER_TEST_SRC)
	_build/c/serialize_test_nosimd
	$(CC) $(C_TEST_FLAGS) -o _build/c/serialize_test $(SER_TEST_SRC)
	$(VALGRIND) _build/c/serialize_test
	$(CC) $(C_TEST_FLAGS) $(C_TEST_ASAN) -o _build/c/arena_test_asan $(ARENA_TEST_SRC)
	_build/c/arena_test_asan
	$(CC) $(C_TEST_FLAGS) -o _build/c/arena_test $(ARENA_TEST_SRC)
	$(VALGRIND) _build/c/arena_test
	$(CC) $(C_TEST_FLAGS) $(C_TEST_ASAN) -o _build/c/ids_test_asan $(IDS_TEST_SRC) -lcrypto
	_build/c/ids_test_asan
	$(CC) $(C_TEST_FLAGS) -o _build/c/ids_test $(IDS_TEST_SRC) -lcrypto
	$(VALGRIND) _build/c/ids_test

## stanza_jid: the stringprep and JID C cores alone (no BEAM) under
## ASan+UBSan and valgrind; the committed Unicode tables must be exactly
## what c_src/gen/stringprep_tables.py writes; the differential test
## against libidn and Python's Unicode 3.2 NFKC (test/c/stringprep_diff.c:
## JID_DIFF_CASES per class plus every code point alone; see doc/jid.md).
JID_TEST_SRC   = test/c/jid_test.c c_src/jid.c c_src/stringprep.c
JID_DIFF_CASES ?= 1000
JID_DIFF_SRC   = test/c/stringprep_diff.c c_src/stringprep.c \
                 test/c/stringprep_libidn_rule.c -lidn
.PHONY: check-jid
check-jid:
	@mkdir -p _build/c
	python3 c_src/gen/stringprep_tables.py --check c_src/stringprep_tables.h
	$(CC) $(C_TEST_FLAGS) $(C_TEST_ASAN) -o _build/c/jid_test_asan $(JID_TEST_SRC)
	_build/c/jid_test_asan
	$(CC) $(C_TEST_FLAGS) -o _build/c/jid_test $(JID_TEST_SRC)
	$(VALGRIND) _build/c/jid_test
	python3 test/c/stringprep_cases.py $(JID_DIFF_CASES) 1 > _build/c/stringprep_cases.txt
	$(CC) $(C_TEST_FLAGS) -O2 -o _build/c/stringprep_diff $(JID_DIFF_SRC)
	_build/c/stringprep_diff _build/c/stringprep_cases.txt

## The stringprep/JID benchmark section alone (bench/stanza_bench_jid.erl;
## stanza_bench_jid:tables/1 is the section's entry point for the full
## report). fast_stringprep (Debian's) runs in the same VM: the compat
## stringprep ebin is kept off the path.
.PHONY: bench-jid
bench-jid:
	@scripts/ensure-packages bench
	$(REBAR) as bench compile
	$(ERL) -noshell -pa $(BENCH_EBIN) -eval 'stanza_bench_jid:run(#{}), halt().'
## TLS (issue 13): the TLS core alone (tls_conn, tls_ctx; test/c/tls_test.c)
## under ASan+UBSan, then under valgrind; part of check-c.
TLS_TEST_SRC = test/c/tls_test.c c_src/tls_conn.c c_src/tls_ctx.c
.PHONY: check-c-tls
check-c: check-c-tls
check-c-tls:
	@mkdir -p _build/c
	$(CC) $(C_TEST_FLAGS) $(C_TEST_ASAN) -o _build/c/tls_test_asan $(TLS_TEST_SRC) -lssl -lcrypto
	_build/c/tls_test_asan
	$(CC) $(C_TEST_FLAGS) -o _build/c/tls_test $(TLS_TEST_SRC) -lssl -lcrypto
	$(VALGRIND) _build/c/tls_test

## Front-end contract (issue 12): what the NIF and the port driver share
## (c_src/stanza_contract.c, c_src/time_budget.c; test/c/contract_test.c)
## under ASan+UBSan; part of check-c.
CONTRACT_TEST_SRC = test/c/contract_test.c c_src/stanza_contract.c c_src/time_budget.c
.PHONY: check-c-contract
check-c: check-c-contract
check-c-contract:
	@mkdir -p _build/c
	$(CC) $(C_TEST_FLAGS) $(C_TEST_ASAN) -o _build/c/contract_test_asan $(CONTRACT_TEST_SRC)
	_build/c/contract_test_asan

## libFuzzer harnesses for the C cores (test/fuzz/README.md), built with
## Debian's clang. `make fuzz` fuzzes each for FUZZ_SECONDS; check-fuzz
## (part of `make test`) replays the seeds and every regression input,
## then fuzzes each for FUZZ_SMOKE_SECONDS. FUZZ_HARNESSES picks some.
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_HARNESSES     ?= fuzz_core fuzz_serialize fuzz_dedup fuzz_tracker fuzz_arena fuzz_jid fuzz_tls
FUZZ_FLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -Wall -Wextra -Werror \
             -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
FUZZ_SRC_fuzz_core      = c_src/xml_core.c c_src/token_scan.c -lexpat
FUZZ_SRC_fuzz_serialize = c_src/xml_serialize.c c_src/xml_core.c c_src/token_scan.c -lexpat
FUZZ_SRC_fuzz_dedup     = c_src/dedup_table.c
FUZZ_SRC_fuzz_tracker   = c_src/request_tracker.c c_src/siphash.c
FUZZ_SRC_fuzz_arena     = c_src/block_arena.c
FUZZ_SRC_fuzz_jid       = c_src/stringprep.c c_src/jid.c
FUZZ_SRC_fuzz_tls       = c_src/tls_conn.c c_src/tls_ctx.c -lssl -lcrypto
FUZZ_BINS = $(addprefix _build/fuzz/,$(FUZZ_HARNESSES))

_build/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_support.h test/c/tls_pair.h c_src/*.c c_src/*.h
	@mkdir -p _build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $(EXPAT_DEFERRAL) -o $@ $< $(FUZZ_SRC_fuzz_$*)

fuzz-build:
	@scripts/ensure-packages fuzz
	$(MAKE) $(FUZZ_BINS)

fuzz: fuzz-build
	test/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-regress: fuzz-build
	test/fuzz/run.sh regress $(FUZZ_HARNESSES)

fuzz-smoke: fuzz-build
	test/fuzz/run.sh fuzz $(FUZZ_SMOKE_SECONDS) $(FUZZ_HARNESSES)

## make test's fuzz smoke runs with a fixed seed: the same inputs each
## time from a clean clone, so its verdict is the code's, not the dice's.
## Exploring is make fuzz's job (a new seed per run).
CHECK_FUZZ_SEED ?= 1
check-fuzz: fuzz-regress
	FUZZ_SEED=$(CHECK_FUZZ_SEED) test/fuzz/run.sh fuzz $(FUZZ_SMOKE_SECONDS) $(FUZZ_HARNESSES)

## The NIF built with ASan+UBSan, the EUnit suites run against it (the
## sanitizer runtimes preloaded into erl; leak checking off: the BEAM does
## not free everything at exit). Rebuilds the normal NIF afterwards.
SANITIZE     = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_MODULES = [stanza_stream_tests, stanza_stream_sched_tests, xml_stream_tests, stanza_stream_prop_tests, \
                stanza_stream_big_tests, \
                stanza_port_tests, \
                stanza_xml_tests, stanza_xml_sched_tests, stanza_xml_prop_tests, xml_tests, \
                stanza_exmpp_tests, stanza_xmerl_tests, \
                stanza_ids_tests, stanza_dedup_tests, stanza_tracker_tests, stanza_ids_prop_tests, \
                stanza_hostile_tests, stanza_soak_tests, stanza_nif_upgrade_tests, \
                stanza_jid_tests, stanza_jid_prop_tests, \
                stanza_stream_compat_options_tests, fxml_stream_tests, fxml_tests]
check-sanitizers:
	@scripts/ensure-packages test
	$(REBAR) as test compile
	$(MAKE) -C c_src clean
	$(MAKE) -C c_src OPT="$(SANITIZE)" LDFLAGS="-shared -fsanitize=address,undefined"
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  $(ERL) -noshell -pa _build/test/lib/*/ebin _build/test/lib/*/test \
	  -eval 'halt(case eunit:test($(TEST_MODULES), []) of ok -> 0; _ -> 1 end)'; \
	  status=$$?; $(MAKE) -C c_src clean; $(MAKE) -C c_src; exit $$status

## Soak: test/stanza_soak_tests.erl at a larger scale than `make test`
## runs it (1M stanzas, 10k parsers, 2 s of hammering, 100k dedup keys).
## Prints its figures on lines starting "soak:". +Q: one port per parser.
.PHONY: soak
SOAK_STANZAS    ?= 10000000
SOAK_PARSERS    ?= 100000
SOAK_HAMMER_MS  ?= 30000
SOAK_DEDUP_KEYS ?= 1000000
soak:
	@scripts/ensure-packages test
	$(REBAR) as test compile
	SOAK_STANZAS=$(SOAK_STANZAS) SOAK_PARSERS=$(SOAK_PARSERS) \
	SOAK_HAMMER_MS=$(SOAK_HAMMER_MS) SOAK_DEDUP_KEYS=$(SOAK_DEDUP_KEYS) \
	  $(ERL) +Q 1048576 -noshell -pa _build/test/lib/stanza/ebin _build/test/lib/stanza/test \
	  -eval 'halt(case eunit:test(stanza_soak_tests, [verbose]) of ok -> 0; _ -> 1 end)'

eunit:
	$(REBAR) eunit

# The bench profile compiles src/ and bench/ (rebar.config), so one
# Dialyzer run covers the library and the benchmark suite.
dialyzer:
	$(REBAR) as bench dialyzer

dep-test:
	test/dep_app/check

## Benchmark: the comparison suite in bench/ (bench/README.md), compiled
## only in rebar3's bench profile, never part of the stanza application.
## Prints the report (a progress line per row on stderr) and writes it to
## $(BENCH_OUT) (Markdown), .csv and .svg beside it. BENCH_OPTS is passed
## to stanza_bench_suite:main/1, e.g. BENCH_OPTS='--size 4 --runs 7',
## '--only parse,big' or '--corpus capture.xml'.
BENCH_OPTS ?=
BENCH_OUT  ?= _build/bench/bench.md
BENCH_EBIN  = _build/bench/lib/stanza/ebin
bench: bench/raw_expat
	@scripts/ensure-packages bench
	$(REBAR) as bench compile
	$(ERL) -noshell -pa $(BENCH_EBIN) -eval 'stanza_bench_suite:main("--out $(BENCH_OUT) $(BENCH_OPTS)")'

# Same header probe as c_src/Makefile: configure expat exactly as stanza does.
bench/raw_expat: bench/raw_expat.c
	@scripts/ensure-packages build
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $(EXPAT_DEFERRAL) -o $@ $< -lexpat

## TLS benchmark (issue 13): bench/stanza_bench_tls.erl alone, in fresh
## peer nodes (stanza_tls, Debian's fast_tls, OTP ssl, gen_tcp). Prints
## the tables and writes them to $(BENCH_TLS_OUT). BENCH_TLS_OPTS is a map,
## e.g. '#{runs => 5, idle => 1000}'.
BENCH_TLS_OPTS ?= \#{}
BENCH_TLS_OUT  ?= _build/bench/tls.md
.PHONY: bench-tls
bench-tls:
	@scripts/ensure-packages bench
	$(REBAR) as bench compile
	$(ERL) -noshell -pa $(BENCH_EBIN) \
	  -eval 'stanza_bench_tls:main("$(BENCH_TLS_OUT)", $(BENCH_TLS_OPTS))'

clean:
	$(REBAR) clean
	rm -rf _build bench/raw_expat

## fast_xml compat: its fxml_stream and fxml against the real fast_xml
## 1.1.49 (Debian erlang-p1-xml), each in a VM of its own (the module names
## are the same). A report for doc/migrating-from-fast_xml.md, not one of
## the benchmark's claims. FXML_BENCH_OPTS: corpus MB, chunk bytes, runs.
.PHONY: bench-fast-xml
FXML_BENCH_OPTS ?= 8 4096 7
bench-fast-xml:
	@scripts/ensure-packages bench
	$(REBAR) as bench compile
	$(ERL) -noshell -pa $(BENCH_EBIN) \
	  -eval 'fxml_compat_bench:main("$(FXML_BENCH_OPTS)")'

## XEP-0114 components (doc/components.md). `make example-echo' starts a
## private ejabberd on loopback (free ports), the echo component of
## examples/echo_component, prints how to reach it, and stops both on
## Ctrl-C (EXAMPLE_SECONDS=N: after N seconds). `make load' runs the
## tutorial's Tsung test on the echo component, stanza vs fast_xml
## (test/stanza_component_load.erl); LOAD_OPTS e.g. '--users 400 --msgs 100
## --rounds 3 --think 0.2'. Writes $(LOAD_OUT).
.PHONY: example-echo load examples-build
ERLC         ?= erlc
EXAMPLES_OUT  = _build/examples
TEST_EBINS    = $(CURDIR)/_build/test/lib/stanza/ebin $(CURDIR)/_build/test/lib/stanza/test $(CURDIR)/$(EXAMPLES_OUT)
LOAD_OPTS    ?=
LOAD_OUT     ?= _build/load/load.md
EXAMPLE_SECONDS ?= 0
examples-build:
	$(REBAR) as test compile
	@mkdir -p $(EXAMPLES_OUT)
	$(ERLC) -pa _build/test/lib/stanza/ebin -o $(EXAMPLES_OUT) examples/echo_component/echo_component.erl examples/echo_component/echo_example.erl

example-echo:
	@scripts/ensure-packages load
	$(MAKE) examples-build
	EBINS="$(TEST_EBINS)" EXAMPLE_SECONDS=$(EXAMPLE_SECONDS) examples/echo_component/run

load:
	@scripts/ensure-packages load
	$(MAKE) examples-build
	$(ERL) -noshell -pa $(TEST_EBINS) \
	  -eval 'stanza_component_load:main("--out $(LOAD_OUT) $(foreach e,$(TEST_EBINS),--ebin $(e)) $(LOAD_OPTS)")'
	$(MAKE) load-ejabberd LOAD_EJABBERD_APPEND=--append

## ejabberd 23.01 on stanza (doc/ejabberd-on-stanza.md). `make
## ejabberd-on-stanza' starts Debian's ejabberd privately on loopback with
## stanza's fast_xml, fast_tls and stringprep first on its code path, shows
## over distribution that it runs them, logs a user in, and serves until
## Enter (EJABBERD_SECONDS=N: for N seconds), then stops it.
## `make ejabberd-drop-ins' copies the four applications to
## $(DROP_INS_DEST) for a real ejabberd and prints its ERL_OPTIONS line.
.PHONY: ejabberd-on-stanza ejabberd-drop-ins
EJABBERD_SECONDS ?= 0
DROP_INS_DEST    ?= $(CURDIR)/_build/ejabberd-drop-ins
DROP_IN_APPS      = stanza fast_xml fast_tls stringprep
ejabberd-on-stanza:
	@scripts/ensure-packages bench
	$(REBAR) as bench compile
	EBINS="$$(echo $(CURDIR)/_build/bench/lib/*/ebin)" EJABBERD_SECONDS=$(EJABBERD_SECONDS) \
	  scripts/ejabberd-on-stanza

ejabberd-drop-ins:
	@scripts/ensure-packages build
	$(REBAR) compile
	@rm -rf $(DROP_INS_DEST)
	@for app in $(DROP_IN_APPS); do \
	  mkdir -p $(DROP_INS_DEST)/$$app && \
	  cp -rL _build/default/lib/$$app/ebin $(DROP_INS_DEST)/$$app/ && \
	  if [ -d _build/default/lib/$$app/priv ]; then \
	    cp -rL _build/default/lib/$$app/priv $(DROP_INS_DEST)/$$app/; fi || exit 1; \
	done
	@echo "Drop-ins in $(DROP_INS_DEST). In ejabberdctl.cfg (e.g. /etc/ejabberd/ejabberdctl.cfg):"
	@echo "ERL_OPTIONS=\"$(foreach a,$(DROP_IN_APPS),-pa $(DROP_INS_DEST)/$(a)/ebin)\""

## `make load', second part (doc/ejabberd-load.md): the same ejabberd 23.01
## on stanza's drop-ins (LOAD_DROP_INS, first on its code path) and on its
## own Debian libraries, interleaved, fresh server per phase: the echo
## component scenario and logged-in users chatting over STARTTLS
## (test/stanza_ejabberd_load.erl). Appended to $(LOAD_OUT) by `make load';
## alone it writes it. LOAD_OPTS e.g. '--chat_users 400 --chat_msgs 60
## --rounds 3'; '--only chat' or '--only component' runs one scenario.
.PHONY: load-ejabberd
LOAD_DROP_INS ?= $(foreach a,stanza fast_xml fast_tls stringprep,$(CURDIR)/_build/test/lib/$(a))
LOAD_EJABBERD_APPEND ?=
load-ejabberd:
	@scripts/ensure-packages load
	$(MAKE) examples-build
	$(ERL) -noshell -pa $(TEST_EBINS) \
	  -eval 'stanza_ejabberd_load:main("--out $(LOAD_OUT) $(LOAD_EJABBERD_APPEND) $(foreach e,$(TEST_EBINS),--ebin $(e)) $(foreach d,$(LOAD_DROP_INS),--drop-in $(d)) $(LOAD_OPTS)")'
