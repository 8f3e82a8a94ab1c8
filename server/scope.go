//go:build duckdb_arrow

package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gplens/gplens/snapshot"
)

// openScoped opens the scoped copy of snap for scope sc, read-only and
// confined like the snapshot itself. `gplens publish` builds the copies
// before switching readers to a snapshot; a copy that is missing (a
// snapshot published without this token configured) is built now, into
// the temp folder, and removed with the snapshot.
func openScoped(ctx context.Context, snap snapshot.Info, sc Scope, o snapshot.OpenOptions, log *slog.Logger) (*sql.DB, func() error, error) {
	path := snapshot.ScopedPath(snap, sc)
	var cleanup func()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		log.Warn("scoped copy missing from the published snapshot; building it now (publish builds it in advance for configured tokens)", "scope", sc.Key(), "snapshot", snap.Name)
		dir, err := os.MkdirTemp("", "gplens-scope-")
		if err != nil {
			return nil, nil, fmt.Errorf("scope %s: %w", sc.Key(), err)
		}
		path = filepath.Join(dir, snapshot.Catalog+".duckdb")
		if err := snapshot.BuildScoped(ctx, snap.Path, path, sc, log); err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
	} else if err != nil {
		return nil, nil, fmt.Errorf("scope %s: %w", sc.Key(), err)
	}
	db, closeFn, err := snapshot.OpenReadOnly(ctx, path, o)
	if err != nil {
		if cleanup != nil {
			cleanup()
		}
		return nil, nil, fmt.Errorf("scope %s: %w", sc.Key(), err)
	}
	return db, func() error {
		err := closeFn()
		if cleanup != nil {
			cleanup()
		}
		return err
	}, nil
}

// checkScopes refuses scopes whose area code the current snapshot does not
// have, naming the token.
func checkScopes(ctx context.Context, snap snapshot.Info, toks []Token) error {
	codes := map[string]map[string]bool{}
	var errs []error
	for i, t := range toks {
		sc, ok := t.scope()
		if !ok {
			continue
		}
		if codes[sc.Level] == nil {
			c, err := snapshot.AreaCodes(ctx, snap.Path, sc.Level)
			if err != nil {
				return fmt.Errorf("check token scopes: %w", err)
			}
			codes[sc.Level] = c
		}
		if !codes[sc.Level][sc.Code] {
			what := fmt.Sprintf("gplens.toml [[serve.tokens]] entry %d (%q)", i+1, t.Name)
			if t.origin != "" {
				what = fmt.Sprintf("%s (%q)", t.origin, t.Name)
			}
			errs = append(errs, fmt.Errorf("%s: %s %s is not in the published warehouse", what, sc.Level, sc.Code))
		}
	}
	return errors.Join(errs...)
}
