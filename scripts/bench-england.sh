#!/usr/bin/env bash
# England-scale benchmark: generate extracts the size of England (about
# 6,300 practices, a QOF year, a month of registrations by LSOA and 10 million
# record-level referrals), ingest them with peak memory measured, and compare
# throughput with DuckDB's own read_csv -> COPY parquet in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./bin/gplens
WORK=${GPLENS_BENCH_WORK:-$(mktemp -d /tmp/gplens-bench.XXXXXX)}
REFERRALS=${GPLENS_BENCH_REFERRALS:-10000000}
echo "bench work dir: $WORK"
time_cmd() { /usr/bin/time -f "%e s elapsed, %M KiB peak RSS" "$@"; }
echo "== generate England ($REFERRALS referral rows)"
time_cmd $BIN generate --out "$WORK/extracts" --practices 6300 --months 1 --end-month 2024-01 --referral-rows "$REFERRALS"
files=( "$(find "$WORK/extracts" -name 'ACHIEVEMENT_*.csv')" "$(find "$WORK/extracts" -name 'gp-reg-pat-prac-lsoa-all.csv')" "$(find "$WORK/extracts" -name 'referrals_records_*.csv')" )
for f in "${files[@]}"; do
  echo "== ingest $(basename "$f") ($(du -h "$f" | cut -f1))"
  time_cmd $BIN --workspace "$WORK/ws" ingest "$f"
done
echo "== throughput vs DuckDB (same files, same run)"
GPLENS_BENCH_DIR="$WORK/extracts" go test -tags=duckdb_arrow -run '^$' -bench BenchmarkIngestVsDuckDB -benchtime 1x -timeout 60m ./ingest/
for step in transform publish; do
  if $BIN $step --help >/dev/null 2>&1; then :; fi
done
[ -n "${GPLENS_BENCH_KEEP:-}" ] || rm -rf "$WORK"
