# stanza: the two commands users run are `make bench` and `make test`.
# Both install missing Debian packages when run as root (scripts/ensure-packages)
# and print the exact apt-get line otherwise.
REBAR ?= rebar3
ERL   ?= erl
CC    ?= cc
EBIN   = _build/default/lib/stanza/ebin

.PHONY: all compile test eunit dialyzer dep-test bench clean

all: compile

compile:
	@scripts/ensure-packages build
	$(REBAR) compile

## Tests: EUnit (with the PropEr properties), Dialyzer, and a project that
## uses stanza as a dependency.
test:
	@scripts/ensure-packages test
	$(REBAR) compile
	$(REBAR) eunit
	$(REBAR) dialyzer
	test/dep_app/check

eunit:
	$(REBAR) eunit

dialyzer:
	$(REBAR) dialyzer

dep-test:
	test/dep_app/check

## Benchmark: builds everything, then prints the throughput table.
## BENCH_OPTS is passed to stanza_bench:main/1, e.g. BENCH_OPTS='--size 8 --chunk 1024'.
BENCH_OPTS ?=
bench: bench/raw_expat
	@scripts/ensure-packages bench
	$(REBAR) compile
	$(ERL) -noshell -pa $(EBIN) -eval 'stanza_bench:main("$(BENCH_OPTS)")'

# Same header probe as c_src/Makefile: configure expat exactly as stanza does.
bench/raw_expat: bench/raw_expat.c
	@scripts/ensure-packages build
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror \
	  $$(grep -qs XML_SetReparseDeferralEnabled /usr/include/expat.h && echo -DSTZ_HAVE_REPARSE_DEFERRAL) \
	  -o $@ $< -lexpat

clean:
	$(REBAR) clean
	rm -rf _build bench/raw_expat
