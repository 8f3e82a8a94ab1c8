package transform

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LakeTable is an external input: Hive-partitioned Parquet files read as
// lake.<Name>.
type LakeTable struct {
	// Name is the table name in schema lake, e.g. "qof_achievement".
	Name string
	// Glob selects the files, e.g. "/ws/lake/qof_achievement/*/*.parquet"
	// (DuckDB glob syntax; made absolute).
	Glob string
	// Columns are DuckDB column definitions for the empty table used when no
	// file matches yet, e.g. "practice_code VARCHAR, value DOUBLE, period VARCHAR".
	Columns string
}

// PartitionKey is the Hive partition column incremental builds track.
const PartitionKey = "period"

// lakeState is a lake table's fingerprint: one hash per partition value.
type lakeState struct {
	// def covers the glob and columns: when it changes, every period changed.
	def   string
	parts map[string]string
	files int
}

// lakeRoot is the directory the lake tables' globs are taken relative to in
// their fingerprints: the directory their fixed parts share ("/ws/lake/a/*"
// and "/ws/lake/b/*" give "/ws/lake"), so a workspace moved or restored
// elsewhere (mv, cp -a, rsync -a) is not a change of every table. (A table's
// fingerprint is kept under its name, so a lone table's glob may lose it.)
func lakeRoot(tables []LakeTable) string {
	if len(tables) == 0 {
		return ""
	}
	prefix := tables[0].Glob
	for _, t := range tables[1:] {
		n := 0
		for n < len(prefix) && n < len(t.Glob) && prefix[n] == t.Glob[n] {
			n++
		}
		prefix = prefix[:n]
	}
	if i := strings.IndexAny(prefix, "*?[{"); i >= 0 {
		prefix = prefix[:i]
	}
	// the directory the globs share
	i := strings.LastIndexAny(prefix, `/\`)
	if i < 0 {
		return ""
	}
	if i == 0 {
		return prefix[:1]
	}
	return prefix[:i]
}

// fingerprint lists the table's files with DuckDB's glob (the same matching
// read_parquet will do) and hashes name, size and mtime per period. The
// glob enters the table's definition relative to root (lakeRoot).
func fingerprint(ctx context.Context, conn *sql.Conn, t LakeTable, root string) (lakeState, []string, error) {
	st := lakeState{parts: map[string]string{}}
	rows, err := conn.QueryContext(ctx, `SELECT file FROM glob(?) ORDER BY file`, t.Glob)
	if err != nil {
		return st, nil, fmt.Errorf("list lake files %s: %w", t.Glob, err)
	}
	var files []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return st, nil, fmt.Errorf("list lake files %s: %w", t.Glob, err)
		}
		files = append(files, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, nil, fmt.Errorf("list lake files %s: %w", t.Glob, err)
	}
	glob := t.Glob
	if rel, err := filepath.Rel(root, t.Glob); root != "" && err == nil {
		glob = filepath.ToSlash(rel)
	}
	sum := sha256.Sum256([]byte(glob + "\x00" + t.Columns + "\x00" + fmt.Sprint(len(files) > 0)))
	st.def = hex.EncodeToString(sum[:])
	byPart := map[string][]string{}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return st, nil, fmt.Errorf("stat lake file: %w", err)
		}
		p := partitionOf(f)
		byPart[p] = append(byPart[p], fmt.Sprintf("%s|%d|%d", filepath.Base(f), fi.Size(), fi.ModTime().UnixNano()))
	}
	for p, list := range byPart {
		sort.Strings(list)
		h := sha256.Sum256([]byte(strings.Join(list, "\n")))
		st.parts[p] = hex.EncodeToString(h[:])
	}
	st.files = len(files)
	return st, files, nil
}

// partitionOf returns the value of the period=<P> path segment ("" if none).
func partitionOf(file string) string {
	for _, seg := range strings.Split(filepath.ToSlash(file), "/") {
		if v, ok := strings.CutPrefix(seg, PartitionKey+"="); ok {
			return v
		}
	}
	return ""
}

// changedPeriods compares two fingerprints of one lake table. all is true
// when the table cannot be compared period by period (new table, new glob
// or columns, files outside any period partition).
func changedPeriods(prev lakeState, havePrev bool, cur lakeState) (periods []string, all bool) {
	if !havePrev || prev.def != cur.def {
		return nil, true
	}
	set := map[string]bool{}
	for p, h := range cur.parts {
		if prev.parts[p] != h {
			set[p] = true
		}
	}
	for p := range prev.parts {
		if _, ok := cur.parts[p]; !ok {
			set[p] = true
		}
	}
	if set[""] {
		return nil, true
	}
	return sortedKeys(set), false
}

// LakeGlob is the usual glob for a source in the lake folder:
// <lakeDir>/<source>/period=*/*.parquet. It matches committed partitions
// only: a partition being written or moved aside is a hidden folder
// (.tmp-*, .old-*), which DuckDB's ** would match but period=* never does.
func LakeGlob(lakeDir, source string) string {
	return filepath.Join(lakeDir, source, PartitionKey+"=*", "*.parquet")
}

// DatasetLakeGlob is LakeGlob for a source that holds several datasets
// (Fingertips exports keyed by indicator):
// <lakeDir>/<source>/dataset=*/period=*/*.parquet, committed partitions only.
func DatasetLakeGlob(lakeDir, source string) string {
	return filepath.Join(lakeDir, source, "dataset=*", PartitionKey+"=*", "*.parquet")
}
