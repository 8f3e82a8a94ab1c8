package transform

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// exists reports whether the warehouse file is there to be changed in place.
func exists(target string) bool {
	fi, err := os.Stat(target)
	return err == nil && fi.Mode().IsRegular()
}

// copyable reports whether an incremental build can start from a copy of
// the warehouse file: it exists and has no WAL, so the file alone is the
// whole database (a WAL left by a crash is replayed by a normal attach).
func copyable(target string) bool {
	fi, err := os.Stat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	_, err = os.Stat(target + ".wal")
	return errors.Is(err, fs.ErrNotExist)
}

// copyFile copies src to a new file dst. io.Copy between two files uses
// copy_file_range on Linux: an in-kernel sequential copy, or a reflink on
// file systems that share extents. publish fsyncs dst before the rename.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy previous warehouse: %w", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("copy previous warehouse: %w", err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return fmt.Errorf("copy previous warehouse: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy previous warehouse to %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy previous warehouse to %s: %w", dst, err)
	}
	return nil
}

// clearCopy readies the previous warehouse (itself, inside the build's
// transaction, or a copy of it) for an in-place build:
// it drops everything the build creates afresh (views, the lake, the
// reference tables, the build state, macros, schemas no model uses) and
// every table that is not a table model of the project, so what remains is
// the previous tables the models may copy or refresh; a rebuilt model empties
// or drops its own before it is filled again.
func (b *builder) clearCopy() error {
	keep := map[string]bool{}
	schemas := map[string]bool{"main": true, LakeSchema: true, RefSchema: true, stateSchema: true}
	for _, m := range b.p.models {
		schemas[strings.ToLower(m.Schema)] = true
		if m.Materialized == Table {
			keep[strings.ToLower(m.Name)] = true
		}
	}
	type object struct{ kind, schema, name string }
	rows, err := b.conn.QueryContext(b.ctx, `
		SELECT 'VIEW', schema_name, view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
		UNION ALL
		SELECT 'TABLE', schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()
		UNION ALL
		SELECT DISTINCT CASE function_type WHEN 'table_macro' THEN 'MACRO TABLE' ELSE 'MACRO' END, schema_name, function_name
		FROM duckdb_functions() WHERE database_name = current_database() AND NOT internal AND function_type IN ('macro', 'table_macro')
		UNION ALL
		SELECT 'SCHEMA', schema_name, '' FROM duckdb_schemas() WHERE database_name = current_database() AND NOT internal`)
	if err != nil {
		return fmt.Errorf("list the previous warehouse's objects: %w", err)
	}
	var drop []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.schema, &o.name); err != nil {
			rows.Close()
			return fmt.Errorf("list the previous warehouse's objects: %w", err)
		}
		switch o.kind {
		case "TABLE":
			if keep[strings.ToLower(o.schema+"."+o.name)] {
				continue
			}
		case "SCHEMA":
			if schemas[strings.ToLower(o.schema)] {
				continue
			}
		}
		drop = append(drop, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list the previous warehouse's objects: %w", err)
	}
	// Schemas last: by then they are empty of what is dropped above.
	for _, last := range []bool{false, true} {
		for _, o := range drop {
			if (o.kind == "SCHEMA") != last {
				continue
			}
			q := fmt.Sprintf("DROP %s IF EXISTS %s.%s", o.kind, quoteIdent(o.schema), quoteIdent(o.name))
			if o.kind == "SCHEMA" {
				q = fmt.Sprintf("DROP SCHEMA IF EXISTS %s CASCADE", quoteIdent(o.schema))
			}
			if err := b.exec("clear the copy of the previous warehouse", q); err != nil {
				return err
			}
		}
	}
	return nil
}
