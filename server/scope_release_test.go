//go:build duckdb_arrow

package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/gplens/gplens/disclosure/attack"
	"github.com/gplens/gplens/disclosure/attack/attacktest"
	"github.com/gplens/gplens/snapshot"
)

// Scoped copies of a release snapshot hold only release, marts and analyst
// data, and show nothing the whole snapshot does not: no count withheld
// there, no number different from it.
func TestScopedCopiesOfReleaseSnapshot(t *testing.T) {
	f := attacktest.SmallCounts
	ws := f.Workspace(t)
	t.Cleanup(f.Cleanup)
	ctx := context.Background()
	snap, err := snapshot.Current(ws)
	if err != nil {
		t.Fatal(err)
	}
	whole, closeWhole, err := snapshot.OpenReadOnly(ctx, snap.Path, snapshot.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeWhole()
	var icb, sub string
	if err := whole.QueryRow(`SELECT icb_code, sub_icb_code FROM release.practices ORDER BY period DESC, practice_code LIMIT 1`).Scan(&icb, &sub); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, id := range []identity{{name: "icb", level: "icb", code: icb}, {name: "sub", level: "sub_icb", code: sub}} {
		t.Run(id.scopeKey(), func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), snapshot.Catalog+".duckdb")
			if err := copyScoped(ctx, snap.Path, dst, id, quiet); err != nil {
				t.Fatal(err)
			}
			scoped, closeFn, err := snapshot.OpenReadOnly(ctx, dst, snapshot.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			attacktest.CheckReaderDatabase(t, scoped)
			var n int
			if err := scoped.QueryRow(`SELECT count(*) FROM marts.indicator_values`).Scan(&n); err != nil || n == 0 {
				t.Fatalf("scoped copy holds no indicator values (%d, %v)", n, err)
			}
			fs, err := attack.CompareScoped(ctx, attack.Target{DB: whole, Schema: "marts"}, attack.Target{DB: scoped, Schema: "marts"})
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range fs {
				if i < 10 {
					t.Errorf("scoped copy shows more than the whole: %s", f)
				}
			}
		})
	}
}
