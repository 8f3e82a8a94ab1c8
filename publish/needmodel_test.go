package publish

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The packs describe the need model the warehouse applied: its
// ref.investment_settings, else data/investment_settings.csv (workspace
// override, then the embedded file).
func TestNeedModelText(t *testing.T) {
	ctx := context.Background()
	override := t.TempDir()
	if err := os.MkdirAll(filepath.Join(override, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(override, "data", "investment_settings.csv"),
		[]byte("setting,value,description\npeer_k,20,x\nneed_gradient,0.25,x\nneed_gradient_low,0,x\nneed_gradient_high,0.5,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		setup     string
		workspace string
		want      needModel
		texts     []string // in NeedIntro, GapCaption, PeersText and the method lines
		err       string
	}{
		{"no table: the embedded file", ``, "", needModel{10, 0.33, 0, 0.66},
			[]string{"need a third more per weighted patient", "runs from none to double.", "each practice's 10 most similar", "(1 + 0.33 x (5 - IMD quintile) / 4)", "gradient of 0 to 0.66."}, ""},
		{"no table: the workspace's file", ``, override, needModel{20, 0.25, 0, 0.5},
			[]string{"need 25% more per weighted patient", "runs from none to double.", "each practice's 20 most similar", "(1 + 0.25 x", "gradient of 0 to 0.5."}, ""},
		{"the warehouse's settings win", `CREATE SCHEMA ref; CREATE TABLE ref.investment_settings AS SELECT * FROM (VALUES
				('peer_k', '5'), ('need_gradient', '0.5'), ('need_gradient_low', '0.1'), ('need_gradient_high', '0.8')) AS t(setting, value)`,
			override, needModel{5, 0.5, 0.1, 0.8},
			[]string{"need 50% more per weighted patient", "runs from 10% to 80%.", "each practice's 5 most similar", "(1 + 0.5 x (5 - IMD quintile) / 4)", "gradient of 0.1 to 0.8."}, ""},
		{"a setting that is not a number", `CREATE SCHEMA ref; CREATE TABLE ref.investment_settings AS SELECT * FROM (VALUES
				('peer_k', 'ten'), ('need_gradient', '0.5'), ('need_gradient_low', '0.1'), ('need_gradient_high', '0.8')) AS t(setting, value)`,
			"", needModel{}, nil, `peer_k = "ten"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := memoryDB(t, tt.setup)
			m, err := loadNeedModel(ctx, db, tt.workspace)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m != tt.want {
				t.Errorf("model %+v, want %+v", m, tt.want)
			}
			all := strings.Join(append([]string{m.NeedIntro(), m.GapCaption(), m.PeersText()}, methodNotes(m)...), "\n")
			for _, s := range tt.texts {
				if !strings.Contains(all, s) {
					t.Errorf("text lacks %q:\n%s", s, all)
				}
			}
		})
	}
}
