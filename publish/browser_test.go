package publish

import (
	"archive/zip"
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHTMLInChromium renders a pack in headless Chromium: no console errors,
// and a screenshot that is not blank; the DOM Chromium builds holds the
// Investment and need part with the feed's numbers, and that part alone
// paints its charts' bars. Skipped where Chromium is absent.
func TestHTMLInChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no /usr/bin/chromium")
	}
	_, out, res := publishFixture(t, Options{Levels: []string{"icb"}})
	dir := filepath.Join(out, smallFixture.period, res.Packs[0].Area)
	page := filepath.Join(dir, "pack.html")
	tmp := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + filepath.Join(tmp, "profile-"+name),
			"--enable-logging=stderr", "--v=0"}, args...)
		cmd := exec.CommandContext(ctx, chromium, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %s: %v\n%s", name, err, stderr.String())
		}
		for _, line := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(line, "CONSOLE") {
				t.Errorf("%s: console message: %s", name, line)
			}
		}
		return stdout.String()
	}
	shot := filepath.Join(tmp, "shot.png")
	run("page", "--screenshot="+shot, "--window-size=1280,2000", "file://"+page)
	if n := screenshotColours(t, shot)[0]; n < 16 {
		t.Errorf("screenshot has %d distinct colours: looks blank", n)
	}

	// the DOM as Chromium parsed it: the Investment and need part, its numbers the feed's
	dom := run("dom", "--dump-dom", "file://"+page)
	checkInvestmentHTML(t, dom, filepath.Join(dir, "feeds", "investment_need.csv"), areaRef{Level: "icb", Code: res.Packs[0].Area})

	// that part alone, with the page's style: its bars and markers are painted
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	style := regexp.MustCompile(`(?s)<style>.*?</style>`).FindString(string(b))
	part := regexp.MustCompile(`(?s)<section id="investment">.*?</section>`).FindString(string(b))
	if style == "" || part == "" {
		t.Fatal("pack.html: no style or no investment section")
	}
	alone := filepath.Join(tmp, "investment.html")
	if err := os.WriteFile(alone, []byte("<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>investment</title>"+style+"</head><body>"+part+"</body></html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	shot2 := filepath.Join(tmp, "investment.png")
	run("investment", "--screenshot="+shot2, "--window-size=1280,1600", "file://"+alone)
	c := screenshotColours(t, shot2, 0xa6a6a6, 0x9fc3e8)
	if c[1] < 200 {
		t.Errorf("investment part: %d pixels of England's bar grey, want the quintile bars painted", c[1])
	}
	if c[2] < 50 {
		t.Errorf("investment part: %d pixels of the area's hatched bar blue, want the area's bars painted", c[2])
	}
}

// screenshotColours returns the number of distinct colours of a PNG
// (sampled every third pixel), then the number of pixels of each colour asked.
func screenshotColours(t *testing.T, path string, want ...uint32) []int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours := map[uint32]bool{}
	out := make([]int, len(want)+1)
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := (r>>8)<<16 | (g>>8)<<8 | bl>>8
			if x%3 == 0 && y%3 == 0 {
				colours[c] = true
			}
			for i, w := range want {
				if c == w {
					out[i+1]++
				}
			}
		}
	}
	out[0] = len(colours)
	return out
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

// readerDump is a Python script printing every cell value of every sheet
// of the workbook argv[1] as openpyxl reads it, read-only and in full.
const readerDump = `
import sys, openpyxl
for ro in (True, False):
    wb = openpyxl.load_workbook(sys.argv[1], read_only=ro, data_only=True)
    for ws in wb.worksheets:
        print("sheet", ro, ws.title)
        for row in ws.iter_rows(values_only=True):
            print(repr(row))
`

// TestWorkbookReadersInferReferences publishes the fixture with the section
// rows spliced (cell references left out where they follow) and through
// excelize's SetRow (every reference written), and has openpyxl (read-only
// and full loads) and LibreOffice (every sheet to CSV) read each way's
// workbooks: each reader must see the same cells both ways. Each reader is
// skipped where absent (CI installs both).
func TestWorkbookReadersInferReferences(t *testing.T) {
	py := ""
	for _, c := range []string{os.Getenv("PYTHON"), "python3", "/usr/bin/python3"} {
		if c != "" && exec.Command(c, "-c", "import openpyxl").Run() == nil {
			py = c
			break
		}
	}
	lo, _ := exec.LookPath("libreoffice")
	if py == "" && lo == "" {
		t.Skip("neither python3 with openpyxl nor libreoffice (Debian: python3-openpyxl, libreoffice-calc-nogui)")
	}
	opts := Options{Levels: []string{"icb"}}
	run := func(splice bool) (string, Result) {
		old := spliceSections
		spliceSections = splice
		defer func() { spliceSections = old }()
		_, out, res := publishFixture(t, opts)
		return out, res
	}
	withRefs, res := run(false)
	without, _ := run(true)
	if len(res.Packs) == 0 {
		t.Fatal("no packs")
	}
	pack := res.Packs[0].Area
	book := func(out string) string { return filepath.Join(out, smallFixture.period, pack, "pack.xlsx") }
	x, err := os.ReadFile(book(without))
	if err != nil {
		t.Fatal(err)
	}
	implied := 0
	zr, err := zip.NewReader(bytes.NewReader(x), int64(len(x)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			sheetCells(t, zipEntry(t, x, f.Name), func(_ []int, _ int, ref, _ bool) {
				if !ref {
					implied++
				}
			})
		}
	}
	if implied < 100 {
		t.Fatalf("%d cells without a reference in the spliced workbook: too few to test", implied)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if py != "" {
		dump := func(out string) string {
			b, err := exec.CommandContext(ctx, py, "-c", readerDump, book(out)).CombinedOutput()
			if err != nil {
				t.Fatalf("openpyxl: %v\n%s", err, b)
			}
			return string(b)
		}
		a, b := dump(withRefs), dump(without)
		if strings.Count(a, "\n") < 100 {
			t.Fatalf("openpyxl read %d lines", strings.Count(a, "\n"))
		}
		if a != b {
			t.Errorf("openpyxl reads the workbooks differently:\n%s", firstDiff(a, b))
		}
	}
	if lo != "" {
		convert := func(out string) map[string]string {
			tmp := t.TempDir()
			// 44,34,76,1,,0,false,true,false,false,false,-1: comma, quote, UTF-8, every sheet to its own file
			cmd := exec.CommandContext(ctx, lo, "--headless", "-env:UserInstallation=file://"+filepath.Join(tmp, "profile"),
				"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "--outdir", tmp, book(out))
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("libreoffice: %v\n%s", err, b)
			}
			files, _ := filepath.Glob(filepath.Join(tmp, "*.csv"))
			m := map[string]string{}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				m[filepath.Base(f)] = string(b)
			}
			return m
		}
		a, b := convert(withRefs), convert(without)
		if len(a) < 5 {
			t.Fatalf("libreoffice wrote %d sheets", len(a))
		}
		for name, s := range a {
			if b[name] != s {
				t.Errorf("libreoffice reads sheet %s differently:\n%s", name, firstDiff(s, b[name]))
			}
		}
	}
}
