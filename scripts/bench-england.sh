#!/usr/bin/env bash
# England-scale benchmarks, the numbers the README reports (issue 14's table),
# every row from the same run with its baseline and the machine's load:
#  1. ingest: England-sized files (a QOF year, a month of registrations by
#     LSOA, record-level referrals), each under /usr/bin/time (peak memory),
#     against DuckDB's read_csv -> COPY parquet on the same files.
#  2. pipeline: MONTHS+1 months of England; ingest all but the last two,
#     transform --full; ingest the next month and transform (incremental, as
#     a share of the full build); publish every pack for that month, and
#     again (byte-identical?); then drop the last month into the inbox and
#     time `gplens run` (ingest + transform + publish) for it.
#  3. real files (GPLENS_BENCH_REAL=1): ingest ../shared/data/real, transform,
#     publish 2023-03.
#  4. the SQL statistics functions against the same formula inline (5M rows).
#  5. the QOF prevalence analysis in `gplens sql` against pandas
#     (scripts/bench-qof.sh; skipped when python3 has no pandas).
# Scale: GPLENS_BENCH_PRACTICES (6300), GPLENS_BENCH_MONTHS (60),
# GPLENS_BENCH_REFERRALS (10000000); the pipeline's [transform] memory_limit:
# GPLENS_BENCH_MEMORY_LIMIT (3GB); steps: GPLENS_BENCH_{INGEST,PIPELINE,
# REAL,FUNCS,QOF}=0 to skip one. A small check of the script itself:
#   GPLENS_BENCH_PRACTICES=150 GPLENS_BENCH_MONTHS=3 GPLENS_BENCH_REFERRALS=20000 \
#   GPLENS_BENCH_REAL=0 scripts/bench-england.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${GPLENS_BIN:-./bin/gplens}
WORK=${GPLENS_BENCH_WORK:-$(mktemp -d /tmp/gplens-bench.XXXXXX)}
PRACTICES=${GPLENS_BENCH_PRACTICES:-6300}
REFERRALS=${GPLENS_BENCH_REFERRALS:-10000000}
MONTHS=${GPLENS_BENCH_MONTHS:-60}
MEMORY_LIMIT=${GPLENS_BENCH_MEMORY_LIMIT:-3GB}
mkdir -p "$WORK"
exec 3>&1 # timed reports here even when the command's output is discarded
SUMMARY="$WORK/summary.md"
: > "$SUMMARY"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "bench work dir: $WORK ($(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(loadavg))"
echo "scale: $PRACTICES practices, $MONTHS months, $REFERRALS record-level referrals; transform memory_limit $MEMORY_LIMIT"

# timed LABEL CMD...: runs CMD under /usr/bin/time and prints its time, peak
# RSS and the load average; leaves them in T (seconds) and RSS (MiB).
timed() {
  local label=$1 tf rc=0
  shift
  tf=$(mktemp)
  /usr/bin/time -o "$tf" -f "%e %M" "$@" || rc=$?
  read -r T rss_kb < <(tail -1 "$tf")
  rm -f "$tf"
  RSS=$((rss_kb / 1024))
  echo "$label: $T s, $RSS MiB peak RSS (load $(loadavg))" >&3
  return $rc
}
# row STEP MEASURED AIM BASELINE: one line of the summary table.
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$(loadavg)" >> "$SUMMARY"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

if [ "${GPLENS_BENCH_INGEST:-1}" = 1 ]; then
  echo "== 1. ingest throughput and memory"
  timed generate $BIN generate --out "$WORK/one" --practices "$PRACTICES" --months 1 --end-month 2024-01 --referral-rows "$REFERRALS" >/dev/null
  $BIN init "$WORK/ws1" >/dev/null
  declare -A rss
  for f in "$(find "$WORK/one" -name 'ACHIEVEMENT_*.csv')" "$(find "$WORK/one" -name 'gp-reg-pat-prac-lsoa-all.csv')" "$(find "$WORK/one" -name 'referrals_records_*.csv')"; do
    timed "ingest $(basename "$f") ($(du -h "$f" | cut -f1))" $BIN --workspace "$WORK/ws1" ingest "$f" >/dev/null
    rss[$(basename "$f")]=$RSS
  done
  # Lines "kind: N MB, R rows: gplens X MB/s (...), duckdb Y MB/s, ratio Z (mean of 5; best runs ...; CPU ...)",
  # the last of each kind (go test runs a benchmark once before its 5 runs; the
  # last line follows the benchmark's name).
  GPLENS_BENCH_DIR="$WORK/one" go test -tags=duckdb_arrow -run '^$' -bench BenchmarkIngestVsDuckDB -benchtime 5x -timeout 60m ./ingest/ 2>&1 \
    | grep -oE '[a-z_]+: [0-9]+ MB, [0-9]+ rows: .*ratio.*' | tac | awk -F: '!seen[$1]++' | tac | tee "$WORK/ingest.txt" || true
  maxrss=0
  for v in "${rss[@]}"; do [ "$v" -gt "$maxrss" ] && maxrss=$v; done
  while IFS= read -r l; do
    kind=${l%%:*}
    gp=$(sed -E 's/.*gplens ([0-9.]+) MB\/s.*/\1/' <<<"$l")
    dd=$(sed -E 's/.*duckdb ([0-9.]+) MB\/s.*/\1/' <<<"$l")
    r=$(sed -E 's/.*, ratio ([0-9.]+) \(mean.*/\1/' <<<"$l")
    rc=$(sed -E 's/.*CPU ([0-9.]+ and [0-9.]+ s a run, ratio [0-9.]+)\).*/\1/' <<<"$l")
    row "ingest $kind vs DuckDB read_csv → COPY" "$r of DuckDB's throughput (mean of 5: $gp MB/s; CPU $rc), peak RSS ≤ $maxrss MiB (all three files)" "≥ 0.8, peak RSS < 512 MiB" "DuckDB $dd MB/s"
  done < "$WORK/ingest.txt"
  rm -rf "$WORK/one" "$WORK/ws1"
fi

if [ "${GPLENS_BENCH_PIPELINE:-1}" = 1 ]; then
  echo "== 2. England pipeline: $PRACTICES practices, $MONTHS months (+1 for \`gplens run\`), $REFERRALS record-level referrals"
  # April and May 2024, as they arrive in life: the 2024-25 QOF and payments files come months
  # after the year, so they are left out (the generator writes a year's files with its April). A
  # month inside a year whose annual files are in also refreshes that year (its peers follow the
  # year's latest month), which real months do only once the year's files are out.
  last=2024-05
  prev=2024-04
  timed generate $BIN generate --out "$WORK/eng" --practices "$PRACTICES" --months "$((MONTHS + 1))" --end-month "$last" --referral-rows "$REFERRALS" >/dev/null
  ws="$WORK/ws"
  $BIN init "$ws" >/dev/null
  # [transform] memory_limit: the aim's 4 GB peak is DuckDB's limit plus the disclosure audit's Go heap
  sed -i "/^\[transform\]/,/^\[/s/^memory_limit = .*/memory_limit = \"$MEMORY_LIMIT\"/" "$ws/gplens.toml"
  mapfile -t early < <(find "$WORK/eng" -name '*.csv' -not -path '*/_truth/*' -not -path "*/$last/*" -not -path "*/$prev/*" | grep -v -e '2024-25' -e '24-25' -e '2425' | sort)
  mapfile -t mid < <(find "$WORK/eng" -name '*.csv' -not -path '*/_truth/*' -path "*/$prev/*" | sort)
  mapfile -t late < <(find "$WORK/eng" -name '*.csv' -not -path '*/_truth/*' -path "*/$last/*" | sort)
  timed "ingest ${#early[@]} files" $BIN --workspace "$ws" ingest "${early[@]}" >/dev/null
  timed "transform --full" $BIN --workspace "$ws" transform --full
  full=$T
  row "transform, full" "$T s, $RSS MiB peak RSS" "< 2 min, < 4 GB" "—"
  timed "ingest one month (${#mid[@]} files)" $BIN --workspace "$ws" ingest "${mid[@]}" >/dev/null
  timed "transform (incremental, one month added)" $BIN --workspace "$ws" transform
  row "transform, one new month" "$T s = $(ratio "$T" "$full") of the full build" "< 0.10 of full" "—"
  timed "publish $prev (every region, ICB and sub-ICB)" $BIN --workspace "$ws" publish --period "$prev"
  pub=$T pubrss=$RSS
  npacks=$($BIN --workspace "$ws" packs | awk -v p="$prev" 'NR > 1 && $0 ~ p' | wc -l)
  row "publish every pack for one month ($npacks packs)" "$pub s ($(ratio "$pub" "$npacks") s a pack), $pubrss MiB peak RSS" "< 60 s (< 0.4 s a pack), < 2 GB" "—"
  echo "region packs (MB each; feeds and workbook):"
  $BIN --workspace "$ws" packs | awk 'NR == 1 || $2 == "region"'
  # awk reads to the end: exiting early broke the pipe under `gplens packs`, and pipefail ended the script
  reg=$($BIN --workspace "$ws" packs | awk '$2 == "region" && !n++ {print $3}')
  [ -n "$reg" ] && du -ch "$ws/packs/$prev/$reg/feeds/"*.csv "$ws/packs/$prev/$reg/pack.xlsx" | tail -1 | sed "s/total/region $reg: CSV feeds + workbook/"
  sums() { (cd "$ws/packs/$prev" && find . -type f | sort | xargs sha256sum); }
  sums > "$WORK/sums.1"
  timed "publish $prev again" $BIN --workspace "$ws" publish --period "$prev" >/dev/null
  same="packs DIFFER"
  sums | cmp -s - "$WORK/sums.1" && same="byte-identical packs"
  echo "re-run: $same"
  row "publish the same month again" "$T s, $same" "byte-identical" "—"
  mkdir -p "$ws/inbox"
  cp "${late[@]}" "$ws/inbox/"
  timed "gplens run --period $last (ingest ${#late[@]} files + transform + publish)" $BIN --workspace "$ws" run --period "$last" >/dev/null
  row "\`gplens run\` for one new month (ingest + transform + publish)" "$T s, $RSS MiB peak RSS" "< 3 min" "—"
  du -sh "$ws/lake" "$ws/warehouse.duckdb" "$ws/packs" 2>/dev/null || true
fi

if [ "${GPLENS_BENCH_REAL:-1}" = 1 ]; then
  echo "== 3. the real files (../shared/data/real)"
  if [ -d ../shared/data/real ]; then
    rws="$WORK/real"
    $BIN init "$rws" >/dev/null
    find ../shared/data/real -type f \( -name '*.csv' -o -name '*.xlsx' \) -print0 > "$WORK/real.list"
    # Exit 2: the non-GP files are refused (see README "Running the real NHS files").
    timed "ingest the real files" xargs -0 -a "$WORK/real.list" $BIN --workspace "$rws" ingest >/dev/null || true
    timed "transform (real files)" $BIN --workspace "$rws" transform
    row "transform, all real files" "$T s, $RSS MiB peak RSS" "—" "—"
    timed "publish 2023-03 (real files)" $BIN --workspace "$rws" publish --period 2023-03
    pub=$T pubrss=$RSS
    npacks=$($BIN --workspace "$rws" packs | awk 'NR > 1 && /2023-03/' | wc -l)
    row "publish every pack, all-real-files workspace ($npacks packs)" "$pub s ($(ratio "$pub" "$npacks") s a pack), $pubrss MiB peak RSS" "< 60 s" "—"
  else
    echo "skipped: ../shared/data/real is absent"
  fi
fi

if [ "${GPLENS_BENCH_FUNCS:-1}" = 1 ]; then
  echo "== 4. SQL statistics functions vs the same formula inline (5M rows)"
  go test -tags=duckdb_arrow -run '^$' -bench BenchmarkSQLFunctions -benchtime 1x -timeout 30m ./metrics/ 2>&1 \
    | grep '^BenchmarkSQLFunctions/' | tee "$WORK/funcs.txt" || true
  # metric columns: value unit pairs after "N ns/op".
  awk '{ name = $1; sub(/^BenchmarkSQLFunctions\//, "", name); sub(/-[0-9]+$/, "", name)
         for (i = 5; i < NF; i += 2) m[$(i + 1)] = $i
         printf "%s\t%s\t%s\t%s\t%s\n", name, m["x_inline"], m["cpu_x_inline"], m["fn_ms"], m["inline_ms"] }' "$WORK/funcs.txt" \
    | while IFS=$'\t' read -r name x cpu fn in; do
        row "SQL function \`$name\` vs inline (5M rows)" "${x}× (CPU ${cpu}×): $fn ms" "≤ 1.5×" "inline SQL $in ms"
      done
fi

if [ "${GPLENS_BENCH_QOF:-1}" = 1 ]; then
  echo "== 5. QOF 2022-23 prevalence analysis: gplens sql vs pandas"
  GPLENS_BIN=$BIN scripts/bench-qof.sh | tee "$WORK/qof.txt" || true
  if l=$(grep '^qof prevalence: gplens' "$WORK/qof.txt"); then
    g=$(sed -E 's/.*gplens ([0-9.]+ s \([0-9.]+ s CPU\)).*/\1/' <<<"$l")
    if grep -q 'pandas [0-9]' <<<"$l"; then
      p=$(sed -E 's/.*pandas ([0-9.]+ s \([0-9.]+ s CPU\)).*/\1/' <<<"$l")
      x=$(sed -E 's/.*pandas ÷ gplens (.*) \(load.*/\1/' <<<"$l")
      row "real QOF prevalence analysis, \`gplens sql\` vs pandas" "$x faster: $g" "≥ 10×" "pandas $p"
    else
      row "real QOF prevalence analysis, \`gplens sql\`" "$g (pandas not installed)" "≥ 10× pandas" "—"
    fi
  fi
fi

echo
echo "== summary ($PRACTICES practices, $MONTHS months, $REFERRALS referrals; $(nproc) cores)"
echo "| step | measured | aim | baseline (same run) | load average after the step (1/5/15 min) |"
echo "| --- | --- | --- | --- | --- |"
cat "$SUMMARY"
[ -n "${GPLENS_BENCH_KEEP:-}" ] || rm -rf "$WORK"
