package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitWritesAParsableConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	w, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"inbox", "quarantine", "lake", "packs", "runs"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			t.Errorf("%s missing", sub)
		}
	}
	if w.Config.Ingest.MaxRejectShare != 0.01 || w.Config.Publish.Suppression.MinCount != 8 || w.Config.Serve.Addr != "127.0.0.1:31337" {
		t.Errorf("template values not read: %+v", w.Config)
	}
	// Init keeps an existing config.
	os.WriteFile(filepath.Join(dir, "gplens.toml"), []byte("[ingest]\nmax_reject_share = 0.05\n"), 0o644)
	if w, err = Init(dir); err != nil || w.Config.Ingest.MaxRejectShare != 0.05 {
		t.Errorf("existing config replaced: %v %+v", err, w.Config.Ingest)
	}
}

func TestUnknownSettingsAreErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gplens.toml"), []byte("[ingest]\nmax_reject_shares = 0.05\n[[jobs]]\nname = \"x\"\n"), 0o644)
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "ingest.max_reject_shares") {
		t.Errorf("err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "gplens.toml"), []byte("[ingest\n"), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "gplens.toml") {
		t.Errorf("syntax error not reported with the file: %v", err)
	}
}
