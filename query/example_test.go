package query_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/query"
)

// Run prints each statement's result; a CREATE prints nothing.
func ExampleRun() {
	ctx := context.Background()
	db, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	script := `CREATE TEMP TABLE t AS SELECT 'A81001' AS practice_code, 85.2 AS value;
SELECT * FROM t;`
	if err := query.Run(ctx, db, script, query.Options{Format: query.FormatMarkdown}, os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// | practice_code | value |
	// | ------------- | ----: |
	// | A81001        |  85.2 |
}

// Split keeps semicolons inside strings and comments.
func ExampleSplit() {
	for _, st := range query.Split("SELECT 'a;b'; -- done; really\nSELECT 2") {
		fmt.Printf("line %d: %s (terminated %v)\n", st.Line, st.Text, st.Terminated)
	}
	// Output:
	// line 1: SELECT 'a;b' (terminated true)
	// line 2: SELECT 2 (terminated false)
}
