package transform

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The reader snapshot (package snapshot) keeps or refreshes each release
// relation by a fingerprint per period, the snapshot's own "rows:sum of
// row hashes". Hashing every row of the release layer took a whole scan of
// the warehouse each publish (England: 11.7 M rows of
// release.indicator_values behind a name join, about 12 s of CPU). The
// build already fingerprints every table it makes (the same formula), so
// it records them for the release relations in _gplens.release_state, and
// derives one for each release view declared incremental: its rows of a
// period come only from its inputs' rows of that period and from its
// unpartitioned inputs, so a hash of its SQL (with the function files) and
// of those inputs' fingerprints changes whenever its rows can. An input
// table counts by the columns the view reads of it (the projections the
// build fingerprints for column-aware change, reads.go), so a month that
// changes only core.current_names' name_period leaves every period of
// release.indicator_values as it was; where no projection is known the
// whole rows count, and a change the view cannot see costs a copy, never a
// stale period. A view whose rows cannot be derived so (not incremental,
// reading the lake or an input without a fingerprint) is left out, and the
// snapshot hashes it as before.

// relFingerprints is what release_state records of one relation: its
// partition column ("" when unpartitioned) and its parts.
type relFingerprints struct {
	pcol  string
	parts map[string]string
}

// releaseFingerprints gives the fingerprints of every table model (from
// content) and of every view it can derive, by model name.
// reads gives, per model, the columns it reads of each table (builder.reads).
func releaseFingerprints(p *Project, content map[string]contentState, reads map[string]map[string][]string) map[string]relFingerprints {
	out := map[string]relFingerprints{}
	for _, m := range p.models { // in dependency order: a view's inputs come first
		if m.Materialized == Table {
			if st, ok := content[m.Name]; ok {
				out[m.Name] = relFingerprints{pcol: st.pcol, parts: st.parts}
			}
			continue
		}
		// each input as the view sees it: the columns it reads, where known
		inputs := map[string]relFingerprints{}
		for _, d := range m.Deps {
			fp, ok := out[d]
			if !ok {
				continue
			}
			if cols, ok := reads[m.Name][d]; ok {
				if proj, ok := content[d].proj[projKey(cols)]; ok {
					fp.parts = proj
				}
			}
			inputs[d] = fp
		}
		if fp, ok := viewFingerprints(m, inputs); ok {
			out[m.Name] = fp
		}
	}
	return out
}

// viewFingerprints derives an incremental view's parts from its inputs'
// (by name: every one of m.Deps must be there).
func viewFingerprints(m *Model, known map[string]relFingerprints) (relFingerprints, bool) {
	if m.Incremental == "" || len(m.Inputs) > 0 || len(m.Deps) == 0 {
		return relFingerprints{}, false
	}
	periods := map[string]bool{}
	rows := map[string]string{} // a period's row count, from its first partitioned input
	for _, d := range m.Deps {
		fp, ok := known[d]
		if !ok {
			return relFingerprints{}, false
		}
		if fp.pcol != m.Incremental {
			continue
		}
		for _, k := range sortedMapKeys(fp.parts) {
			periods[k] = true
			if _, seen := rows[k]; !seen {
				n, _, _ := strings.Cut(fp.parts[k], ":")
				rows[k] = n
			}
		}
	}
	if len(periods) == 0 {
		return relFingerprints{}, false
	}
	out := relFingerprints{pcol: m.Incremental, parts: map[string]string{}}
	for _, k := range sortedKeys(periods) {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00", m.hash, k)
		for _, d := range m.Deps {
			fp := known[d]
			fmt.Fprintf(h, "%s\x00", d)
			if fp.pcol == m.Incremental {
				fmt.Fprintf(h, "%s\x00", fp.parts[k])
				continue
			}
			for _, pk := range sortedMapKeys(fp.parts) {
				fmt.Fprintf(h, "%s=%s\x00", pk, fp.parts[pk])
			}
		}
		out.parts[k] = fmt.Sprintf("%s:view-%x", rows[k], h.Sum(nil)[:16])
	}
	return out, true
}

// writeReleaseState records the release relations' fingerprints: a row
// per part, or one with a NULL part for an empty relation.
func writeReleaseState(ctx context.Context, conn *sql.Conn, p *Project, content map[string]contentState, reads map[string]map[string][]string) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE _gplens.release_state (relation VARCHAR, period_column VARCHAR, part VARCHAR, fingerprint VARCHAR)`); err != nil {
		return err
	}
	fps := releaseFingerprints(p, content, reads)
	var vals []string
	var args []any
	for _, name := range slices.Sorted(maps.Keys(fps)) {
		schema, table, _ := strings.Cut(name, ".")
		if schema != "release" {
			continue
		}
		fp := fps[name]
		if len(fp.parts) == 0 {
			vals = append(vals, "(?, nullif(?, ''), NULL, NULL)")
			args = append(args, table, fp.pcol)
		}
		for _, k := range sortedMapKeys(fp.parts) {
			vals = append(vals, "(?, nullif(?, ''), ?, ?)")
			args = append(args, table, fp.pcol, k, fp.parts[k])
		}
	}
	if len(vals) == 0 {
		return nil
	}
	_, err := conn.ExecContext(ctx, "INSERT INTO _gplens.release_state VALUES "+strings.Join(vals, ", "), args...)
	return err
}
