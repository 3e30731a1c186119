#!/bin/sh
# Runs the libFuzzer harnesses built by `make fuzz-build` (see
# test/fuzz/README.md). Called by the Makefile:
#   test/fuzz/run.sh fuzz SECONDS HARNESS...    fuzz each for SECONDS
#   test/fuzz/run.sh regress HARNESS...         replay seeds + regressions
# Each harness fuzzes with its seeds (test/fuzz/seeds/H, read only) and a
# working corpus kept between runs (_build/fuzz/corpus/H, not committed);
# a crash is saved under _build/fuzz/crashes/H/ and the run fails with
# that path in its output. FUZZ_NICE (default "nice -n 19") runs them
# politely: one process at a time, never -jobs/-workers.
set -u

mode=$1; shift
seconds=0
if [ "$mode" = fuzz ]; then seconds=$1; shift; fi
nice=${FUZZ_NICE-nice -n 19}
# FUZZ_SEED set: libFuzzer's random seed is fixed, so a short run (make
# test's smoke, which starts from the committed seeds in a clean clone)
# takes the same path each time; unset: a new seed per run (make fuzz).
seed_opt=""
if [ -n "${FUZZ_SEED:-}" ]; then seed_opt="-seed=$FUZZ_SEED"; fi
out=_build/fuzz
dict=test/fuzz/xml.dict

# Symbolized reports even where only the versioned llvm-symbolizer is
# installed (Debian's llvm-14 puts it under /usr/lib/llvm-14/bin).
if ! command -v llvm-symbolizer >/dev/null 2>&1 &&
   [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  PATH=$PATH:/usr/lib/llvm-14/bin; export PATH
fi
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}; export UBSAN_OPTIONS

# Per harness: the largest input worth mutating, and whether the XML
# dictionary helps (it does not for the tables' op codes).
opts_for() {
  case $1 in
    fuzz_core)      echo "-max_len=16384 -dict=$dict" ;;
    fuzz_serialize) echo "-max_len=4096 -dict=$dict" ;;
    *)              echo "-max_len=4096" ;;
  esac
}

status=0
for h in "$@"; do
  bin=$out/$h
  log=$out/logs/$h.log
  mkdir -p "$out/corpus/$h" "$out/crashes/$h" "$out/logs"
  if [ "$mode" = regress ]; then
    files=$(find "test/fuzz/seeds/$h" "test/fuzz/regressions/$h" -type f 2>/dev/null | sort)
    n=$(echo "$files" | grep -c .)
    if [ "$n" -eq 0 ]; then # no files: the binary would start fuzzing
      echo "$h: no seed or regression inputs"
      continue
    fi
    # shellcheck disable=SC2086
    if $nice "$bin" $files >"$log" 2>&1; then
      echo "$h: $n seed and regression inputs replayed, all pass"
    else
      echo "$h: FAILED replaying seeds/regressions; log $log:"
      grep -E "oracle failed|ERROR|Running:|SUMMARY" "$log" | tail -8
      status=1
    fi
    continue
  fi
  # shellcheck disable=SC2046
  $nice "$bin" $(opts_for "$h") $seed_opt -max_total_time="$seconds" -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$out/crashes/$h/" \
    "$out/corpus/$h" "test/fuzz/seeds/$h" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' )
  if [ $rc -eq 0 ]; then
    echo "$h: ${seconds}s, ${execs:-?} executions, ${rate:-?} exec/s, ${last:-no stats}"
  else
    echo "$h: FAILED after ${execs:-?} executions (exit $rc); log $log:"
    grep -E "oracle failed|ERROR|SUMMARY" "$log" | head -5
    crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
    echo "$h: crash file: ${crash:-none written}"
    status=1
  fi
done
exit $status
