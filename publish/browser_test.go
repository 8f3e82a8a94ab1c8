package publish

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTMLInChromium renders a pack in headless Chromium: no console errors,
// and a screenshot that is not blank. Skipped where Chromium is absent.
func TestHTMLInChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no /usr/bin/chromium")
	}
	_, out, res := publishFixture(t, Options{Levels: []string{"icb"}})
	page := filepath.Join(out, smallFixture.period, res.Packs[0].Area, "pack.html")
	tmp := t.TempDir()
	shot := filepath.Join(tmp, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(tmp, "profile"),
		"--enable-logging=stderr", "--v=0", "--screenshot="+shot, "--window-size=1280,2000", "file://"+page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, stderr.String())
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	if len(colours) < 16 {
		t.Errorf("screenshot has %d distinct colours: looks blank", len(colours))
	}
}

// TestWorkbookInLibreOffice converts the workbook to CSV with LibreOffice,
// which fails on a malformed file. Skipped where LibreOffice is absent.
func TestWorkbookInLibreOffice(t *testing.T) {
	lo, err := exec.LookPath("libreoffice")
	if err != nil {
		t.Skip("no libreoffice")
	}
	_, out, res := publishFixture(t, Options{Levels: []string{"sub_icb"}})
	xl := filepath.Join(out, smallFixture.period, res.Packs[0].Area, "pack.xlsx")
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, lo, "--headless", "-env:UserInstallation=file://"+filepath.Join(tmp, "profile"), "--convert-to", "csv", "--outdir", tmp, xl)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("libreoffice: %v\n%s", err, b)
	}
	b, err := os.ReadFile(filepath.Join(tmp, "pack.csv"))
	if err != nil {
		t.Fatalf("no CSV from libreoffice: %v", err)
	}
	if !strings.Contains(string(b), "GP data pack") {
		t.Errorf("converted Contents sheet lacks the title: %q", b)
	}
}
