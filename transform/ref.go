package transform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gplens/gplens/data"
)

// refTable is one reviewed reference file, loaded as ref.<name>.
type refTable struct {
	name string // basename without .csv
	file string // data file name, for messages
	rows [][]string
	hash string
}

// loadRefs reads every CSV reference file (embedded, with the workspace's
// overrides and additions) keyed by "ref.<name>".
func loadRefs(o Options) (map[string]refTable, error) {
	ws := o.RefDir
	if ws == "" && o.Warehouse != "" {
		ws = filepath.Dir(o.Warehouse)
	}
	names, err := data.CSVNames(ws)
	if err != nil {
		return nil, err
	}
	out := make(map[string]refTable, len(names))
	for _, n := range names {
		t, err := data.ReadCSV(ws, n)
		if err != nil {
			return nil, err
		}
		name := strings.ToLower(strings.TrimSuffix(n, ".csv"))
		if !lakeNameRe.MatchString(name) {
			return nil, fmt.Errorf("reference file %s: name must be letters, digits and _", n)
		}
		rows := [][]string{t.Header}
		for _, r := range t.Rows {
			rec := make([]string, len(t.Header))
			for i, h := range t.Header {
				rec[i] = r[h]
			}
			rows = append(rows, rec)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(rows); err != nil {
			return nil, fmt.Errorf("reference file %s: %w", n, err)
		}
		sum := sha256.Sum256(buf.Bytes())
		out[RefSchema+"."+name] = refTable{name: name, file: n, rows: rows, hash: hex.EncodeToString(sum[:])}
	}
	return out, nil
}

// createRefs materialises each reference file as a table, with column types
// sniffed by DuckDB from a cleaned copy (comments dropped, fields trimmed).
func createRefs(ctx context.Context, conn *sql.Conn, refs map[string]refTable) error {
	if len(refs) == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "gplens-ref-")
	if err != nil {
		return fmt.Errorf("reference files: %w", err)
	}
	defer os.RemoveAll(dir)
	keys := make([]string, 0, len(refs))
	for k := range refs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := refs[k]
		path := filepath.Join(dir, r.name+".csv")
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(r.rows); err != nil {
			return fmt.Errorf("reference file %s: %w", r.file, err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			return fmt.Errorf("reference file %s: %w", r.file, err)
		}
		q := fmt.Sprintf("CREATE OR REPLACE TABLE %s.%s AS SELECT * FROM read_csv(%s, header = true, sample_size = -1)",
			RefSchema, quoteIdent(r.name), quoteString(filepath.ToSlash(path)))
		if len(r.rows) == 1 {
			// A header alone: every column VARCHAR, no rows.
			cols := make([]string, len(r.rows[0]))
			for i, h := range r.rows[0] {
				cols[i] = quoteIdent(h) + " VARCHAR"
			}
			q = fmt.Sprintf("CREATE OR REPLACE TABLE %s.%s (%s)", RefSchema, quoteIdent(r.name), strings.Join(cols, ", "))
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("load reference file %s as %s.%s: %w", r.file, RefSchema, r.name, err)
		}
	}
	return nil
}
