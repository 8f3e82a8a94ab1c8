// Package synth writes England-shaped synthetic NHS general-practice extracts
// (QOF, payments, workforce, registrations, ODS, IMD, referrals) in the real
// published file formats, with known relationships and planted outliers so
// the gplens pipeline can be tested and demonstrated end to end.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Config says what to generate. Zero values mean the England default.
type Config struct {
	Out          string // output folder (created if missing)
	Practices    int    // number of practices open at the end (about 6,300 for England)
	Months       int    // months of monthly data, ending at EndMonth
	Seed         int64  // the same seed gives byte-identical files
	ReferralRows int64  // record-level referral rows in total (0: none, aggregated only)
	EndMonth     string // "YYYY-MM", default "2024-03"
	// Progress, if set, is called after each file is complete.
	Progress func(file string, rows int64)
	// SkipTruth leaves out the _truth/ folder (planted outliers, practice facts).
	SkipTruth bool
}

// DefaultConfig is England-shaped: 6,300 practices, 60 months to March 2024.
func DefaultConfig() Config {
	return Config{Out: "gplens-synth", Practices: 6300, Months: 60, Seed: 1, EndMonth: "2024-03"}
}

// FileInfo is one file written.
type FileInfo struct {
	Path  string // relative to Config.Out, forward slashes
	Rows  int64  // data rows (header excluded)
	Bytes int64
}

// Outlier is a practice planted with an extreme value the metrics should find.
type Outlier struct {
	Practice string
	Kind     string // OutlierLowQOF, OutlierHighReferrals or OutlierLowGPFTE
	Factor   float64
}

// Outlier kinds.
const (
	OutlierLowQOF        = "low_qof_achievement"
	OutlierHighReferrals = "high_referral_rate"
	OutlierLowGPFTE      = "low_gp_fte"
)

// Summary lists what Generate wrote.
type Summary struct {
	Files          []FileInfo
	Months         []string // YYYY-MM covered, oldest first
	FinancialYears []string // YYYY-YY with QOF and payments files
	Practices      int      // practices ever open in the window
	Outliers       []Outlier
}

// TotalRows sums the data rows of all files.
func (s Summary) TotalRows() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.Rows
	}
	return n
}

// TotalBytes sums the sizes of all files.
func (s Summary) TotalBytes() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.Bytes
	}
	return n
}

func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if c.Practices == 0 {
		c.Practices = d.Practices
	}
	if c.Months == 0 {
		c.Months = d.Months
	}
	if c.EndMonth == "" {
		c.EndMonth = d.EndMonth
	}
	if c.Out == "" {
		return c, fmt.Errorf("synth: output folder is empty")
	}
	if c.Practices < 7 {
		return c, fmt.Errorf("synth: practices %d: need at least 7 (one per region)", c.Practices)
	}
	if c.Practices > 100000 {
		return c, fmt.Errorf("synth: practices %d: more than 100000", c.Practices)
	}
	if c.Months < 1 || c.Months > 240 {
		return c, fmt.Errorf("synth: months %d: want 1 to 240", c.Months)
	}
	if c.ReferralRows < 0 {
		return c, fmt.Errorf("synth: referral rows %d: negative", c.ReferralRows)
	}
	if _, err := parseMonth(c.EndMonth); err != nil {
		return c, err
	}
	return c, nil
}

// month is an absolute month number: year*12 + (month-1).
type month int

func parseMonth(s string) (month, error) {
	y, m, ok := strings.Cut(s, "-")
	yy, err1 := strconv.Atoi(y)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(y) != 4 || len(m) != 2 || mm < 1 || mm > 12 || yy < 1990 || yy > 2100 {
		return 0, fmt.Errorf("synth: end month %q: want YYYY-MM", s)
	}
	return month(yy*12 + mm - 1), nil
}

func (m month) year() int { return int(m) / 12 }
func (m month) mon() int  { return int(m)%12 + 1 }
func (m month) String() string {
	return fmt.Sprintf("%04d-%02d", m.year(), m.mon())
}

// first and last day of the month.
func (m month) first() time.Time {
	return time.Date(m.year(), time.Month(m.mon()), 1, 0, 0, 0, 0, time.UTC)
}
func (m month) last() time.Time { return (m + 1).first().AddDate(0, 0, -1) }
func (m month) days() int       { return m.last().Day() }

// extractDate is the registrations style: 01SEP2023.
func (m month) extractDate() string {
	return "01" + strings.ToUpper(m.first().Format("Jan2006"))
}

// fyStart is the April that starts the financial year holding m.
func (m month) fyStart() month {
	if m.mon() >= 4 {
		return month(m.year()*12 + 3)
	}
	return month((m.year()-1)*12 + 3)
}

// fyLabel: 2023-24.
func fyLabel(start month) string {
	y := start.year()
	return fmt.Sprintf("%04d-%02d", y, (y+1)%100)
}

// fyShort: 2324.
func fyShort(start month) string {
	y := start.year()
	return fmt.Sprintf("%02d%02d", y%100, (y+1)%100)
}

// ---- random numbers -------------------------------------------------------

// splitmix is a bijective 64-bit mixer: distinct inputs give distinct outputs.
func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// Random streams: every (purpose, a, b) gets its own generator so the output
// does not depend on generation order.
const (
	stHierarchy uint64 = iota + 1
	stLSOA
	stPractice
	stQOF
	stPayments
	stWorkforce
	stReferrals
	stNames
	stMonthNoise
)

func newRand(seed int64, stream, a, b uint64) *rand.Rand {
	s1 := splitmix(uint64(seed) ^ splitmix(stream))
	s2 := splitmix(a*0x100000001B3 ^ splitmix(b+stream<<32))
	return rand.New(rand.NewPCG(s1, s2))
}

// hashNorm is a deterministic standard-normal-ish value for (seed, keys),
// used where a whole generator would be overkill.
func hashNorm(seed int64, stream, a, b uint64) float64 {
	h := splitmix(uint64(seed) ^ splitmix(stream^splitmix(a^splitmix(b))))
	// sum of 4 uniforms, centred and scaled: close enough to normal for noise.
	var s float64
	for i := 0; i < 4; i++ {
		s += float64(h&0xFFFF) / 65535
		h >>= 16
	}
	return (s - 2) / math.Sqrt(4.0/12)
}

func round(x float64, dp int) float64 {
	p := math.Pow(10, float64(dp))
	return math.Round(x*p) / p
}

func clamp(x, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, x))
}

// poisson draws a Poisson count (normal approximation for large means).
func poisson(r *rand.Rand, lambda float64) int64 {
	if lambda <= 0 {
		return 0
	}
	if lambda < 30 {
		l := math.Exp(-lambda)
		k := int64(0)
		p := r.Float64()
		for p > l {
			k++
			p *= r.Float64()
		}
		return k
	}
	v := math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64())
	if v < 0 {
		return 0
	}
	return int64(v)
}

// binomial draws a Binomial(n, p) count (normal approximation for large n·p).
func binomial(r *rand.Rand, n int64, p float64) int64 {
	if n <= 0 || p <= 0 {
		return 0
	}
	if p >= 1 {
		return n
	}
	mean := float64(n) * p
	if n < 40 {
		var k int64
		for i := int64(0); i < n; i++ {
			if r.Float64() < p {
				k++
			}
		}
		return k
	}
	if mean < 15 {
		// Poisson is a good approximation for rare events.
		k := poisson(r, mean)
		if k > n {
			k = n
		}
		return k
	}
	if float64(n)-mean < 15 {
		return n - binomial(r, n, 1-p)
	}
	v := math.Round(mean + math.Sqrt(mean*(1-p))*r.NormFloat64())
	return int64(clamp(v, 0, float64(n)))
}

// largestRemainder splits total into integer parts proportional to w.
func largestRemainder(total int64, w []float64, out []int64) []int64 {
	out = out[:0]
	var sum float64
	for _, x := range w {
		sum += x
	}
	if sum <= 0 || total <= 0 {
		for range w {
			out = append(out, 0)
		}
		return out
	}
	var given int64
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(w))
	for i, x := range w {
		exact := float64(total) * x / sum
		f := math.Floor(exact)
		out = append(out, int64(f))
		given += int64(f)
		rems[i] = rem{i, exact - f}
	}
	left := total - given
	for left > 0 {
		// pick the largest remainder each time (ties by index): len(w) is small.
		best := -1
		for j := range rems {
			if rems[j].r >= 0 && (best < 0 || rems[j].r > rems[best].r) {
				best = j
			}
		}
		if best < 0 {
			break
		}
		out[rems[best].i]++
		rems[best].r = -1
		left--
	}
	return out
}
