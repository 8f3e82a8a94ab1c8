package publish_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/publish"
)

// How `gplens publish --period 2024-06 --level icb` calls the package.
func ExamplePublish() {
	ctx := context.Background()
	db, err := duck.Open(ctx, "gplens-data/warehouse.duckdb", duck.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	res, err := publish.Publish(ctx, db, publish.Options{
		Period:      "2024-06",
		Levels:      []string{"icb"},
		OutDir:      "gplens-data/packs",
		Version:     "1.0.0",
		Suppression: publish.SuppressionConfig{MinCount: 8, Secondary: true},
		Logger:      slog.Default(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(res.Packs), "packs,", res.Suppressed.Primary, "cells withheld")
}

// How `gplens packs` lists what is published.
func ExampleList() {
	packs, err := publish.List("gplens-data/packs")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range packs {
		fmt.Println(p.Period, p.Level, p.Area, p.AreaName, p.Practices)
	}
}
