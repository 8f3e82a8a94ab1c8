// Package publish turns the warehouse marts for one month into data packs:
// one folder per area holding a workbook, a self-contained HTML report, tidy
// feeds (Parquet and CSV) with a data dictionary, and a manifest. A period is
// published atomically and the same inputs give byte-identical packs.
package publish

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"slices"

	"github.com/gplens/gplens/period"
)

// SourceFile is one ingested input file (from the lake manifest), listed in
// each pack's manifest and Notes sheet so readers can trace the numbers.
type SourceFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Period string `json:"period"`
}

// ModelVersion identifies one SQL model that produced the marts.
type ModelVersion struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// SuppressionConfig is statistical disclosure control for non-public
// indicators (core.indicators.public = false).
type SuppressionConfig struct {
	// MinCount is the smallest count shown: counts 1..MinCount-1 are
	// suppressed (0 means the default, 8, i.e. 1..7 suppressed).
	MinCount int `json:"min_count" toml:"min_count"`
	// Secondary suppresses further cells so a suppressed one cannot be
	// recovered by subtraction from a published total.
	Secondary bool `json:"secondary" toml:"secondary"`
	// applied is the rule the release models applied, in words (Publish
	// reads it from the warehouse; see appliedRule)
	applied string
}

// DefaultSuppression is the NHS-usual rule: counts 1 to 7 suppressed, with
// secondary suppression.
func DefaultSuppression() SuppressionConfig {
	return SuppressionConfig{MinCount: 8, Secondary: true}
}

// Options for one publication.
type Options struct {
	// Period is the pack month, YYYY-MM.
	Period string
	// Areas limits the publication to these area codes (empty: all areas of
	// the requested levels). Other areas already published for the period
	// are carried over unchanged.
	Areas []string
	// Levels of area to publish: any of region, icb, sub_icb, pcn.
	// Empty means region, icb and sub_icb.
	Levels []string
	// OutDir is the packs folder (<workspace>/packs), used when Dest is nil.
	OutDir string
	// Version of gplens, recorded in each manifest.
	Version string
	// Sources and Models are recorded in each manifest and Notes sheet.
	Sources []SourceFile
	Models  []ModelVersion
	// Suppression; the zero value means DefaultSuppression() (8, secondary).
	Suppression SuppressionConfig
	// ListDownTo is, per pack level, the lowest level of area its pack
	// lists one by one (its sections' rows, the practices sheet and feed,
	// the charts' points); the areas above are listed in any case. Missing
	// levels take DefaultListDownTo.
	ListDownTo map[string]string
	// KeyIndicators shown on the Practices sheet and charted in the report;
	// empty picks a default set from the catalogue.
	KeyIndicators []string
	// Seed is recorded in the manifest; nothing in a pack is random today,
	// but any future sampling must draw from it so packs stay reproducible.
	Seed int64
	// Workers renders packs in parallel (0: GOMAXPROCS).
	Workers int
	// Schema the sections read (default DefaultSchema, "release"): the
	// marts' tables with the release models' disclosure-control flags.
	Schema string
	// Workspace folder, for reference-file overrides (<workspace>/data/);
	// "" reads the embedded files only.
	Workspace string
	// Progress receives a line per finished pack with an ETA (nil: none).
	Progress io.Writer
	Logger   *slog.Logger
	// Dest receives the files; nil means LocalDir{Root: OutDir}.
	Dest Destination
	// need is the need model the warehouse applied (Publish reads it; see
	// loadNeedModel)
	need needModel
}

// Result summarises a publication.
type Result struct {
	Period     string
	Packs      []PackInfo
	Files      int
	Bytes      int64
	Suppressed SuppressionCounts
}

// DefaultSchema is what the pack sections read: the disclosure-controlled
// copy of the marts (sql/release), whose flags decide what is withheld.
const DefaultSchema = "release"

var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// level order from the top; packs may be published for the middle four.
var levelOrder = []string{"england", "region", "icb", "sub_icb", "pcn", "practice"}

var publishableLevels = []string{"region", "icb", "sub_icb", "pcn"}

// DefaultListDownTo: a region pack lists its ICBs and sub-ICB locations, so its
// size follows its few dozen areas rather than its ~1,000 practices (whose
// rows are in the ICB and sub-ICB packs: at England scale a region pack
// listing them was 200 MB); the other packs list every practice.
func DefaultListDownTo() map[string]string {
	return map[string]string{"region": "sub_icb", "icb": "practice", "sub_icb": "practice", "pcn": "practice"}
}

func levelRank(l string) int {
	if i := slices.Index(levelOrder, l); i >= 0 {
		return i
	}
	return len(levelOrder)
}

func (o *Options) normalise() error {
	if !period.IsMonth(o.Period) {
		return fmt.Errorf("publish: period %q is not YYYY-MM", o.Period)
	}
	if len(o.Levels) == 0 {
		o.Levels = []string{"region", "icb", "sub_icb"}
	}
	for _, l := range o.Levels {
		if !slices.Contains(publishableLevels, l) {
			return fmt.Errorf("publish: level %q is not one of %v", l, publishableLevels)
		}
	}
	deepest := DefaultListDownTo()
	for l, d := range o.ListDownTo {
		if !slices.Contains(publishableLevels, l) {
			return fmt.Errorf("publish: list_down_to: %q is not a pack level (%v)", l, publishableLevels)
		}
		if r := levelRank(d); r >= len(levelOrder) || r < levelRank(l) {
			return fmt.Errorf("publish: list_down_to: %s = %q: want %s or a level below it (%v)", l, d, l, levelOrder[levelRank(l):])
		}
		deepest[l] = d
	}
	o.ListDownTo = deepest
	if o.Suppression == (SuppressionConfig{}) {
		o.Suppression = DefaultSuppression()
	}
	if o.Suppression.MinCount == 0 {
		o.Suppression.MinCount = 8
	}
	if o.Suppression.MinCount < 1 {
		return fmt.Errorf("publish: suppression min_count %d must be at least 1", o.Suppression.MinCount)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if !schemaRE.MatchString(o.Schema) {
		return fmt.Errorf("publish: schema %q is not a plain name", o.Schema)
	}
	if o.Dest == nil {
		if o.OutDir == "" {
			return fmt.Errorf("publish: neither OutDir nor Dest given")
		}
		o.Dest = LocalDir{Root: o.OutDir}
	}
	return nil
}
