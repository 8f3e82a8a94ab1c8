package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Manifest describes one pack (manifest.json).
type Manifest struct {
	Gplens      string            `json:"gplens_version"`
	Period      string            `json:"period"`
	Area        string            `json:"area_code"`
	AreaName    string            `json:"area_name"`
	Level       string            `json:"level"`
	Parent      string            `json:"parent_code,omitempty"`
	Practices   int               `json:"practices"`
	Indicators  []IndicatorPeriod `json:"indicators"`
	Sources     []SourceFile      `json:"sources"`
	Models      []ModelVersion    `json:"models"`
	Seed        int64             `json:"seed"`
	Suppression ManifestSDC       `json:"suppression"`
	Files       []ManifestFile    `json:"files"`
}

// IndicatorPeriod says which period of each indicator the pack shows.
type IndicatorPeriod struct {
	ID     string `json:"indicator_id"`
	Period string `json:"period"`
	Public bool   `json:"public"`
}

// ManifestSDC records the disclosure control applied.
type ManifestSDC struct {
	MinCount  int               `json:"min_count"`
	Secondary bool              `json:"secondary"`
	Rule      string            `json:"rule"`
	Cells     SuppressionCounts `json:"cells"`
}

// ManifestFile is one output file.
type ManifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Rows   *int   `json:"rows,omitempty"`
}

// PackInfo is one published pack, as listed by List.
type PackInfo struct {
	Period    string `json:"period"`
	Area      string `json:"area_code"`
	AreaName  string `json:"area_name"`
	Level     string `json:"level"`
	Practices int    `json:"practices"`
	Files     int    `json:"files"`
	Bytes     int64  `json:"bytes"`
	Dir       string `json:"dir,omitempty"`
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func encodeManifest(m *Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest %s: %w", m.Area, err)
	}
	return append(b, '\n'), nil
}

// List reads the manifests of every published pack under outDir, newest
// period first, then by level and area code.
func List(outDir string) ([]PackInfo, error) {
	periods, err := os.ReadDir(outDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list packs in %s: %w", outDir, err)
	}
	var out []PackInfo
	for _, pe := range periods {
		if !pe.IsDir() || strings.HasPrefix(pe.Name(), ".") {
			continue
		}
		areas, err := os.ReadDir(filepath.Join(outDir, pe.Name()))
		if err != nil {
			return nil, fmt.Errorf("list packs in %s: %w", pe.Name(), err)
		}
		for _, ae := range areas {
			if !ae.IsDir() {
				continue
			}
			dir := filepath.Join(outDir, pe.Name(), ae.Name())
			b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read manifest %s: %w", dir, err)
			}
			var m Manifest
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("read manifest %s: %w", dir, err)
			}
			pi := PackInfo{Period: m.Period, Area: m.Area, AreaName: m.AreaName, Level: m.Level, Practices: m.Practices, Files: len(m.Files) + 1, Dir: dir}
			for _, f := range m.Files {
				pi.Bytes += f.Bytes
			}
			out = append(out, pi)
		}
	}
	slices.SortFunc(out, func(a, b PackInfo) int {
		if a.Period != b.Period {
			return strings.Compare(b.Period, a.Period)
		}
		if levelRank(a.Level) != levelRank(b.Level) {
			return levelRank(a.Level) - levelRank(b.Level)
		}
		return strings.Compare(a.Area, b.Area)
	})
	return out, nil
}
