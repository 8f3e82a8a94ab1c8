package snapshot

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Remarks describes a column readers see: the data dictionary's text for
// column of relation (a marts table or analyst view, by name), "" when it
// has none. gplens publish passes publish.ColumnRemarks.
type Remarks func(relation, column string) string

// describedSchemas are the schemas whose columns get remarks: the ones a
// reader may query (the server lists nothing else).
var describedSchemas = []string{"marts", "analyst"}

// readerColumns lists the columns of the described schemas of the
// attached database db, with their current comment.
func readerColumns(ctx context.Context, conn *sql.Conn, db string) ([][4]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT schema_name, table_name, column_name, coalesce(comment, '')
		FROM duckdb_columns() WHERE database_name = ? AND schema_name IN ('`+strings.Join(describedSchemas, "', '")+`')
		ORDER BY schema_name, table_name, column_index`, db)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", db, err)
	}
	defer rows.Close()
	var out [][4]string
	for rows.Next() {
		var c [4]string
		if err := rows.Scan(&c[0], &c[1], &c[2], &c[3]); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func commentOn(db string, c [4]string, text string) string {
	return fmt.Sprintf("COMMENT ON COLUMN %s.%s.%s.%s IS %s",
		quoteIdent(db), quoteIdent(c[0]), quoteIdent(c[1]), quoteIdent(c[2]), quote(text))
}

// describeColumns comments every column of the reader schemas of the
// attached database db that remarks describes. A comment the warehouse
// already has is kept: it was written on purpose nearer the data.
func describeColumns(ctx context.Context, conn *sql.Conn, db string, remarks Remarks) error {
	if remarks == nil {
		return nil
	}
	cols, err := readerColumns(ctx, conn, db)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if c[3] != "" {
			continue
		}
		if text := remarks(c[1], c[2]); text != "" {
			if _, err := conn.ExecContext(ctx, commentOn(db, c, text)); err != nil {
				return fmt.Errorf("describe %s.%s.%s: %w", c[0], c[1], c[2], err)
			}
		}
	}
	return nil
}

// copyComments gives the columns of the attached database dst the
// comments of the same columns in src (views rebuilt from their SQL lose
// them). Relations or columns dst does not have are skipped.
func copyComments(ctx context.Context, conn *sql.Conn, src, dst string) error {
	from, err := readerColumns(ctx, conn, src)
	if err != nil {
		return err
	}
	to, err := readerColumns(ctx, conn, dst)
	if err != nil {
		return err
	}
	comment := map[[3]string]string{}
	for _, c := range from {
		if c[3] != "" {
			comment[[3]string{c[0], c[1], c[2]}] = c[3]
		}
	}
	for _, c := range to {
		text, ok := comment[[3]string{c[0], c[1], c[2]}]
		if !ok || text == c[3] {
			continue
		}
		if _, err := conn.ExecContext(ctx, commentOn(dst, c, text)); err != nil {
			return fmt.Errorf("comment %s.%s.%s: %w", c[0], c[1], c[2], err)
		}
	}
	return nil
}
