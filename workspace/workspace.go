// Package workspace knows the layout of a gplens workspace and its
// gplens.toml configuration.
package workspace

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// Workspace is one gplens folder: config, inbox, lake, warehouse, packs.
type Workspace struct {
	Dir    string
	Config Config
}

// Config is gplens.toml.
type Config struct {
	Ingest    IngestConfig     `toml:"ingest"`
	Transform TransformConfig  `toml:"transform"`
	Publish   PublishConfig    `toml:"publish"`
	Serve     ServeConfig      `toml:"serve"`
	Jobs      []toml.Primitive `toml:"jobs"`
	meta      toml.MetaData
}

// IngestConfig is [ingest].
type IngestConfig struct {
	MaxRejectShare float64 `toml:"max_reject_share"`
}

// TransformConfig is [transform].
type TransformConfig struct {
	MemoryLimit string `toml:"memory_limit"`
	Threads     int    `toml:"threads"`
}

// PublishConfig is [publish].
type PublishConfig struct {
	Levels        []string `toml:"levels"`
	KeyIndicators []string `toml:"key_indicators"`
	// ListDownTo is [publish.list_down_to]: per pack level, the lowest level
	// its pack lists area by area (publish.DefaultListDownTo for the rest).
	ListDownTo  map[string]string `toml:"list_down_to"`
	Suppression SuppressionConfig `toml:"suppression"`
	Seed        int64             `toml:"seed"`
	// MemoryLimit bounds DuckDB while it reads the packs' sections (it
	// spills its sorts to disk past it).
	MemoryLimit string `toml:"memory_limit"`
}

// SuppressionConfig is [publish.suppression].
// The release models apply it in transform (it overrides the * row of
// data/disclosure.csv).
type SuppressionConfig struct {
	MinCount     int  `toml:"min_count"`
	Secondary    bool `toml:"secondary"`
	SuppressZero bool `toml:"suppress_zero"`
	// RoundTo rounds published counts to a multiple (0 or 1: exact).
	RoundTo int `toml:"round_to"`
}

// ServeConfig is [serve].
type ServeConfig struct {
	Addr         string  `toml:"addr"`
	QueryTimeout string  `toml:"query_timeout"`
	MemoryLimit  string  `toml:"memory_limit"`
	Threads      int     `toml:"threads"`
	TokenFile    string  `toml:"token_file"`
	TLSCert      string  `toml:"tls_cert"`
	TLSKey       string  `toml:"tls_key"`
	Tokens       []Token `toml:"tokens"`
}

// Token is one [[serve.tokens]] entry.
type Token struct {
	Name   string `toml:"name"`
	Token  string `toml:"token"`
	ICB    string `toml:"icb"`
	SubICB string `toml:"sub_icb"`
}

//go:embed gplens.toml.tmpl
var template string

// Template is the commented gplens.toml that `gplens init` writes.
func Template() string { return template }

// Defaults for a workspace without gplens.toml.
func Defaults() Config {
	return Config{
		Ingest:    IngestConfig{MaxRejectShare: 0.01},
		Transform: TransformConfig{MemoryLimit: "8GB"},
		Publish:   PublishConfig{Levels: []string{"region", "icb", "sub_icb"}, Suppression: SuppressionConfig{MinCount: 8, Secondary: true}, Seed: 1, MemoryLimit: "1GB"},
		Serve:     ServeConfig{Addr: "127.0.0.1:31337", QueryTimeout: "60s", MemoryLimit: "2GB"},
	}
}

// Open reads the workspace at dir (its gplens.toml if present).
func Open(dir string) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", dir, err)
	}
	w := &Workspace{Dir: abs, Config: Defaults()}
	path := filepath.Join(abs, "gplens.toml")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return w, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	md, err := toml.Decode(string(b), &w.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.Config.meta = md
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			if len(k) > 0 && k[0] == "jobs" {
				continue
			}
			keys = append(keys, k.String())
		}
		if len(keys) > 0 {
			return nil, fmt.Errorf("%s: unknown settings: %s (see the comments `gplens init` writes)", path, strings.Join(keys, ", "))
		}
	}
	return w, nil
}

// DecodeJobs decodes the [[jobs]] tables into v (a pointer to a slice).
func (c *Config) DecodeJobs(each func(i int, decode func(v any) error) error) error {
	for i, p := range c.Jobs {
		if err := each(i, func(v any) error { return c.meta.PrimitiveDecode(p, v) }); err != nil {
			return err
		}
	}
	return nil
}

// Init creates the workspace folders and a commented gplens.toml (kept if
// one exists).
func Init(dir string) (*Workspace, error) {
	for _, sub := range []string{"", "inbox", "quarantine", "lake", "packs", "runs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("init workspace: %w", err)
		}
	}
	path := filepath.Join(dir, "gplens.toml")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(path, []byte(template), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return Open(dir)
}

// Paths inside the workspace.
func (w *Workspace) Lake() string       { return filepath.Join(w.Dir, "lake") }
func (w *Workspace) Inbox() string      { return filepath.Join(w.Dir, "inbox") }
func (w *Workspace) Quarantine() string { return filepath.Join(w.Dir, "quarantine") }
func (w *Workspace) Warehouse() string  { return filepath.Join(w.Dir, "warehouse.duckdb") }
func (w *Workspace) Packs() string      { return filepath.Join(w.Dir, "packs") }
func (w *Workspace) Runs() string       { return filepath.Join(w.Dir, "runs") }
func (w *Workspace) Models() string     { return filepath.Join(w.Dir, "models") }
