#!/usr/bin/env bash
# England-scale benchmarks, the numbers the README reports.
#  1. ingest: generate England-sized files (6,300 practices, a QOF year, a
#     month of registrations by LSOA, 10 million record-level referrals),
#     ingest each under /usr/bin/time (peak memory), and compare throughput
#     with DuckDB's read_csv -> COPY parquet on the same files, same run.
#  2. pipeline (GPLENS_BENCH_PIPELINE=1, the default): 60 months of England
#     with 10 million record-level referrals; ingest all but the last month,
#     full transform, then the last month and an incremental transform (as a
#     ratio of the full build), then publish every pack for that month (time,
#     peak RSS, the size of each region pack) and publish it again.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${GPLENS_BIN:-./bin/gplens}
WORK=${GPLENS_BENCH_WORK:-$(mktemp -d /tmp/gplens-bench.XXXXXX)}
REFERRALS=${GPLENS_BENCH_REFERRALS:-10000000}
MONTHS=${GPLENS_BENCH_MONTHS:-60}
echo "bench work dir: $WORK ($(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB)"
timed() { local label=$1; shift; /usr/bin/time -f "$label: %e s elapsed, %M KiB peak RSS" "$@"; }

if [ "${GPLENS_BENCH_INGEST:-1}" = 1 ]; then
  echo "== 1. ingest throughput and memory"
  timed generate $BIN generate --out "$WORK/one" --practices 6300 --months 1 --end-month 2024-01 --referral-rows "$REFERRALS" >/dev/null
  for f in "$(find "$WORK/one" -name 'ACHIEVEMENT_*.csv')" "$(find "$WORK/one" -name 'gp-reg-pat-prac-lsoa-all.csv')" "$(find "$WORK/one" -name 'referrals_records_*.csv')"; do
    timed "ingest $(basename "$f") ($(du -h "$f" | cut -f1))" $BIN --workspace "$WORK/ws1" ingest "$f"
  done
  GPLENS_BENCH_DIR="$WORK/one" go test -tags=duckdb_arrow -run '^$' -bench BenchmarkIngestVsDuckDB -benchtime 1x -timeout 60m ./ingest/ 2>&1 | grep -E 'ratio|MB/s' | grep -v '^Benchmark' || true
  rm -rf "$WORK/one" "$WORK/ws1"
fi

if [ "${GPLENS_BENCH_PIPELINE:-1}" = 1 ]; then
  echo "== 2. England pipeline: $MONTHS months, $REFERRALS record-level referrals"
  timed generate $BIN generate --out "$WORK/eng" --practices 6300 --months "$MONTHS" --end-month 2024-03 --referral-rows "$REFERRALS" >/dev/null
  last=2024-03
  ws="$WORK/ws"
  mapfile -t early < <(find "$WORK/eng" -name '*.csv' -not -path '*/_truth/*' -not -path "*/$last/*" | sort)
  mapfile -t late < <(find "$WORK/eng" -name '*.csv' -path "*/$last/*" | sort)
  timed "ingest ${#early[@]} files" $BIN --workspace "$ws" ingest "${early[@]}" >/dev/null
  timed "transform --full" $BIN --workspace "$ws" transform --full
  timed "ingest the last month (${#late[@]} files)" $BIN --workspace "$ws" ingest "${late[@]}" >/dev/null
  timed "transform (incremental, one month added)" $BIN --workspace "$ws" transform
  timed "publish $last (every region, ICB and sub-ICB)" $BIN --workspace "$ws" publish --period "$last"
  echo "region packs (MB each; feeds and workbook):"
  $BIN --workspace "$ws" packs | awk 'NR == 1 || $2 == "region"'
  reg=$($BIN --workspace "$ws" packs | awk '$2 == "region" {print $3; exit}')
  [ -n "$reg" ] && du -ch "$ws/packs/$last/$reg/feeds/"*.csv "$ws/packs/$last/$reg/pack.xlsx" | tail -1 | sed "s/total/region $reg: CSV feeds + workbook/"
  sums() { (cd "$ws/packs/$last" && find . -type f | sort | xargs sha256sum); }
  sums > "$WORK/sums.1"
  timed "publish $last again" $BIN --workspace "$ws" publish --period "$last" >/dev/null
  sums | cmp -s - "$WORK/sums.1" && echo "re-run: byte-identical packs" || echo "re-run: packs DIFFER"
  du -sh "$ws/lake" "$ws/warehouse.duckdb" "$ws/packs" 2>/dev/null || true
fi
[ -n "${GPLENS_BENCH_KEEP:-}" ] || rm -rf "$WORK"
