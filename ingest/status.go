package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gplens/gplens/data"
	"github.com/gplens/gplens/period"
)

// PackSourcesFile says which sources a monthly pack needs and when a
// source's period counts for a month (data/pack_sources.csv).
const PackSourcesFile = "pack_sources.csv"

// Rules for when a partition counts for a pack month.
const (
	RuleMonth         = "month"          // a monthly partition for the month itself
	RulePublishedYear = "published_year" // a financial year that ended before the month
	RuleAny           = "any"            // any period (static reference data)
)

// Requirement is one thing a pack needs, met by any one of its sources.
type Requirement struct {
	Name     string      `json:"requirement"`
	Required bool        `json:"required"`
	Sources  []ReqSource `json:"sources"`
}

// ReqSource is a source that can meet a requirement, and its rule.
type ReqSource struct {
	Source string `json:"source"`
	Rule   string `json:"rule"`
}

// LoadPackSources reads data/pack_sources.csv (or the workspace's override).
func LoadPackSources(workspace string) ([]Requirement, error) {
	t, err := data.ReadCSV(workspace, PackSourcesFile)
	if err != nil {
		return nil, err
	}
	var out []Requirement
	idx := map[string]int{}
	for i, r := range t.Rows {
		where := fmt.Sprintf("%s line %d", PackSourcesFile, t.Lines[i])
		name, src, role, rule := r["requirement"], r["source"], r["role"], r["rule"]
		if _, ok := Lookup(src); !ok {
			return nil, fmt.Errorf("%s: no source named %q (see `gplens sources`)", where, src)
		}
		if role != "required" && role != "optional" {
			return nil, fmt.Errorf("%s: role %q: want required or optional", where, role)
		}
		if rule != RuleMonth && rule != RulePublishedYear && rule != RuleAny {
			return nil, fmt.Errorf("%s: rule %q: want %s, %s or %s", where, rule, RuleMonth, RulePublishedYear, RuleAny)
		}
		if name == "" {
			return nil, fmt.Errorf("%s: requirement is blank", where)
		}
		k, ok := idx[name]
		if !ok {
			k = len(out)
			idx[name] = k
			out = append(out, Requirement{Name: name, Required: role == "required"})
		} else if out[k].Required != (role == "required") {
			return nil, fmt.Errorf("%s: requirement %q is both required and optional", where, name)
		}
		out[k].Sources = append(out[k].Sources, ReqSource{Source: src, Rule: rule})
	}
	return out, nil
}

// PartitionStatus is what the lake holds for one source, dataset and period.
type PartitionStatus struct {
	Source   string    `json:"source"`
	Dataset  string    `json:"dataset,omitempty"`
	Period   string    `json:"period"`
	Rows     int64     `json:"rows"`
	Rejected int64     `json:"rows_rejected"`
	Files    int       `json:"files"` // Parquet files in the partition folder now
	File     string    `json:"file"`  // the extract loaded
	SHA256   string    `json:"sha256"`
	Status   string    `json:"status"` // loaded or restated
	LoadedAt time.Time `json:"loaded_at"`
	// Missing: the manifest has the load but its folder is gone (ingest the file again).
	Missing bool `json:"missing,omitempty"`
}

// MonthStatus says whether a complete pack can be built for a month.
type MonthStatus struct {
	Month    string `json:"month"`
	Complete bool   `json:"complete"`
	// Met: requirement -> "source period" of the data that meets it.
	Met map[string]string `json:"met"`
	// Missing: required requirements with no data for the month.
	Missing []string `json:"missing,omitempty"`
	// Optional: optional requirements with no data (their pack sections are left out).
	Optional []string `json:"optional_missing,omitempty"`
}

// Status is `gplens status`: the lake's partitions and the pack months.
type Status struct {
	Lake         string            `json:"lake"`
	Partitions   []PartitionStatus `json:"partitions"`
	Months       []MonthStatus     `json:"months"`
	Complete     []string          `json:"complete_months"`
	Requirements []Requirement     `json:"requirements"`
}

// LakeStatus reads the manifest and the partition folders of a lake.
func LakeStatus(lake, workspace string) (*Status, error) {
	reqs, err := LoadPackSources(workspace)
	if err != nil {
		return nil, err
	}
	rows, err := ReadManifest(lake)
	if err != nil {
		return nil, err
	}
	st := &Status{Lake: lake, Requirements: reqs, Partitions: []PartitionStatus{}, Months: []MonthStatus{}, Complete: []string{}}
	for _, e := range Latest(rows) {
		p := PartitionStatus{Source: e.Source, Dataset: e.Dataset, Period: e.Period, Rows: e.RowsWritten, Rejected: e.RowsRejected,
			File: e.File, SHA256: e.SHA256, Status: e.Status, LoadedAt: e.IngestedAt}
		files, err := filepath.Glob(filepath.Join(PartitionPath(lake, e.Source, e.Dataset, e.Period), "*.parquet"))
		if err != nil {
			return nil, fmt.Errorf("list partition: %w", err)
		}
		p.Files = len(files)
		if _, err := os.Stat(PartitionPath(lake, e.Source, e.Dataset, e.Period)); os.IsNotExist(err) {
			p.Missing = true
		}
		st.Partitions = append(st.Partitions, p)
	}
	st.Months = packMonths(st.Partitions, reqs)
	for _, m := range st.Months {
		if m.Complete {
			st.Complete = append(st.Complete, m.Month)
		}
	}
	return st, nil
}

// counts reports whether a partition of a source counts for a month under rule.
func counts(cad Cadence, rule, p, month string) bool {
	switch rule {
	case RuleAny:
		return true
	case RuleMonth:
		return cad != Annual && p == month
	case RulePublishedYear:
		end, ok := period.LastMonth(p)
		return ok && period.IsYear(p) && cad == Annual && end < month
	}
	return false
}

// packMonths lists the months a pack could be asked for (every month a
// monthly source holds, and the April after each financial year) with what
// meets each requirement.
func packMonths(parts []PartitionStatus, reqs []Requirement) []MonthStatus {
	cadence := map[string]Cadence{}
	for _, s := range Sources() {
		cadence[s.Info().Name] = s.Info().Cadence
	}
	bySource := map[string][]string{}
	cand := map[string]bool{}
	for _, p := range parts {
		if p.Missing {
			continue
		}
		bySource[p.Source] = append(bySource[p.Source], p.Period)
		switch cad := cadence[p.Source]; {
		case cad == Annual:
			if end, ok := period.LastMonth(p.Period); ok && period.IsYear(p.Period) {
				if next, ok := period.AddMonths(end, 1); ok {
					cand[next] = true
				}
			}
		case cad == Monthly || cad == Quarterly:
			if period.IsMonth(p.Period) {
				cand[p.Period] = true
			}
		}
	}
	months := make([]string, 0, len(cand))
	for m := range cand {
		months = append(months, m)
	}
	sort.Strings(months)
	out := []MonthStatus{}
	for _, month := range months {
		ms := MonthStatus{Month: month, Met: map[string]string{}, Complete: true}
		for _, r := range reqs {
			best := ""
			for _, rs := range r.Sources {
				ps := append([]string(nil), bySource[rs.Source]...)
				sort.Strings(ps)
				for i := len(ps) - 1; i >= 0; i-- {
					if counts(cadence[rs.Source], rs.Rule, ps[i], month) {
						if best == "" {
							best = rs.Source + " " + ps[i]
						}
						break
					}
				}
			}
			switch {
			case best != "":
				ms.Met[r.Name] = best
			case r.Required:
				ms.Missing = append(ms.Missing, r.Name)
				ms.Complete = false
			default:
				ms.Optional = append(ms.Optional, r.Name)
			}
		}
		out = append(out, ms)
	}
	return out
}

// Describe renders a partition's place in messages.
func (p PartitionStatus) Describe() string {
	return strings.TrimSpace(partName(p.Source, p.Dataset, p.Period))
}
