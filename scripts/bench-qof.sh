#!/usr/bin/env bash
# The real QOF 2022-23 prevalence analysis (Wilson 95/99.8%, comparison with
# England, funnel, PHE deciles, ICB totals, SII) in `gplens sql`
# (bench/qof_prevalence.sql) against the same analysis in pandas
# (bench/qof_prevalence.py), each run end to end as a user would (process
# start, reading the files, writing the results), best of GPLENS_BENCH_RUNS
# (3), alternately, wall and CPU time. Prints one summary line:
#   qof prevalence: gplens G s (g s CPU), pandas P s (p s CPU), pandas ÷ gplens R× wall, r× CPU (load ...)
# pandas is skipped, with a note, when no python3 with pandas is found
# ($PYTHON, then python3, then /usr/bin/python3; Debian: apt-get install python3-pandas).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${GPLENS_BIN:-./bin/gplens}
RUNS=${GPLENS_BENCH_RUNS:-3}
if [ ! -f ../shared/data/real/qof/2022-23/PREVALENCE_2223.csv ]; then
  echo "qof prevalence: skipped (../shared/data/real is absent)"
  exit 0
fi
py=""
for c in "${PYTHON:-}" python3 /usr/bin/python3; do
  if [ -n "$c" ] && command -v "$c" >/dev/null && "$c" -c 'import pandas, numpy' 2>/dev/null; then
    py=$c
    break
  fi
done
work=$(mktemp -d /tmp/gplens-bench-qof.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/ws" # an empty workspace: the SQL runs on an in-memory database
# measure CMD...: one run, the command's output discarded; sets W (wall
# seconds) and C (user + system CPU seconds: steadier on a shared machine).
measure() {
  /usr/bin/time -o "$work/time" -f "%e %U %S" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  read -r W u s < <(tail -1 "$work/time")
  C=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }
gw="" gc="" pw="" pc=""
for i in $(seq "$RUNS"); do
  measure $BIN --workspace "$work/ws" sql -f bench/qof_prevalence.sql --format csv --out "$work/practices.csv"
  echo "run $i: gplens sql $W s ($C s CPU)"
  gw=$(best "$W" "$gw") gc=$(best "$C" "$gc")
  if [ -n "$py" ]; then
    measure "$py" bench/qof_prevalence.py --out "$work/pandas"
    echo "run $i: pandas ($py) $W s ($C s CPU)"
    pw=$(best "$W" "$pw") pc=$(best "$C" "$pc")
  fi
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
x() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
if [ -n "$py" ]; then
  echo "qof prevalence: gplens $gw s ($gc s CPU), pandas $pw s ($pc s CPU), pandas ÷ gplens $(x "$pw" "$gw")× wall, $(x "$pc" "$gc")× CPU (load $load)"
else
  echo "qof prevalence: gplens $gw s ($gc s CPU); pandas skipped: no python3 with pandas (apt-get install python3-pandas) (load $load)"
fi
