// Command shellmain runs query.Shell on the process's stdin, for trying
// the interactive prompt by hand (go run ./query/testdata/shellmain).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/query"
)

func main() {
	ctx := context.Background()
	db, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	err = query.Shell(ctx, db, os.Stdin, os.Stdout, query.ShellOptions{HistoryFile: os.Getenv("HISTFILE"), SearchPath: query.DefaultSearchPath})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
