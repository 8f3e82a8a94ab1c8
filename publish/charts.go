package publish

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Charts are inline SVG written here, so a pack needs no script, font or
// network. Each chart is role="img" with a <title> and <desc>; every mark has
// its own <title>, which browsers show on hover; shapes as well as colours
// carry meaning.

const (
	chartW  = 760.0
	chartH  = 360.0
	marginL = 64.0
	marginR = 24.0
	marginT = 20.0
	marginB = 56.0
)

type scale struct{ d0, d1, r0, r1 float64 }

func (s scale) at(v float64) float64 {
	if s.d1 == s.d0 {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// niceTicks gives about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || math.IsInf(hi-lo, 0) || math.IsNaN(hi-lo) {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			step = m * mag
			break
		}
	}
	var out []float64
	// counted steps, so float rounding can never stall the loop
	first := math.Ceil(lo / step)
	for k := 0.0; k <= float64(4*n); k++ {
		v := (first + k) * step
		if v > hi+step*1e-9 {
			break
		}
		out = append(out, v)
	}
	return out
}

// padRange widens [lo, hi] by a margin; a flat range gets a visible one.
func padRange(lo, hi, frac float64) (float64, float64) {
	d := hi - lo
	if d <= 1e-9*math.Max(math.Abs(lo), math.Abs(hi)) {
		m := math.Max(math.Abs(hi)*0.05, 1e-6)
		if hi == 0 {
			m = 1
		}
		return lo - m, hi + m
	}
	return lo - d*frac, hi + d*frac
}

func fmtNum(v float64) string {
	a := math.Abs(v)
	if v == math.Trunc(v) && a < 1e15 {
		return groupThousands(strconv.FormatFloat(v, 'f', 0, 64))
	}
	switch {
	case a >= 1000:
		return groupThousands(strconv.FormatFloat(v, 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v == 0:
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

type svgBuf struct {
	strings.Builder
	id string
}

func (b *svgBuf) open(id, title, desc string) {
	b.id = id
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" class="chart">`,
		int(chartW), int(chartH), id, id)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(desc))
}

func (b *svgBuf) close() template.HTML {
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axes draws the frame, gridlines and labels.
func (b *svgBuf) axes(x, y scale, xticks, yticks []float64, xlabel, ylabel string, xfmt func(float64) string) {
	b.WriteString(`<g class="axis">`)
	for _, t := range yticks {
		yy := y.at(t)
		fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="grid"/><text x="%s" y="%s" text-anchor="end">%s</text>`,
			f1(marginL), f1(chartW-marginR), f1(yy), f1(yy), f1(marginL-6), f1(yy+4), html.EscapeString(fmtNum(t)))
	}
	for _, t := range xticks {
		xx := x.at(t)
		fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="tick"/><text x="%s" y="%s" text-anchor="middle">%s</text>`,
			f1(xx), f1(xx), f1(chartH-marginB), f1(chartH-marginB+5), f1(xx), f1(chartH-marginB+18), html.EscapeString(xfmt(t)))
	}
	fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="frame"/>`, f1(marginL), f1(chartW-marginR), f1(chartH-marginB), f1(chartH-marginB))
	fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="frame"/>`, f1(marginL), f1(marginL), f1(marginT), f1(chartH-marginB))
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" class="label">%s</text>`, f1((marginL+chartW-marginR)/2), f1(chartH-12), html.EscapeString(xlabel))
	fmt.Fprintf(b, `<text transform="translate(14 %s) rotate(-90)" text-anchor="middle" class="label">%s</text>`, f1((marginT+chartH-marginB)/2), html.EscapeString(ylabel))
	b.WriteString(`</g>`)
}

// marker draws a point whose shape carries the same meaning as its colour.
func (b *svgBuf) marker(shape, class string, x, y, r float64, title string) {
	t := `<title>` + html.EscapeString(title) + `</title>`
	switch shape {
	case "up":
		fmt.Fprintf(b, `<path class="%s" d="M%s %sL%s %sL%s %sZ">%s</path>`, class, f1(x), f1(y-r*1.2), f1(x+r*1.1), f1(y+r*0.8), f1(x-r*1.1), f1(y+r*0.8), t)
	case "down":
		fmt.Fprintf(b, `<path class="%s" d="M%s %sL%s %sL%s %sZ">%s</path>`, class, f1(x), f1(y+r*1.2), f1(x+r*1.1), f1(y-r*0.8), f1(x-r*1.1), f1(y-r*0.8), t)
	case "square":
		fmt.Fprintf(b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s">%s</rect>`, class, f1(x-r), f1(y-r), f1(2*r), f1(2*r), t)
	case "diamond":
		fmt.Fprintf(b, `<path class="%s" d="M%s %sL%s %sL%s %sL%s %sZ">%s</path>`, class, f1(x), f1(y-r*1.3), f1(x+r*1.3), f1(y), f1(x), f1(y+r*1.3), f1(x-r*1.3), f1(y), t)
	default:
		fmt.Fprintf(b, `<circle class="%s" cx="%s" cy="%s" r="%s">%s</circle>`, class, f1(x), f1(y), f1(r), t)
	}
}

func polyline(pts [][2]float64) string {
	var b strings.Builder
	for i, p := range pts {
		if i == 0 {
			b.WriteString("M")
		} else {
			b.WriteString("L")
		}
		b.WriteString(f1(p[0]) + " " + f1(p[1]))
	}
	return b.String()
}

// funnel limits around target (on the value scale) at denominator n, for
// confidence z: proportions by the normal approximation the Wilson interval
// inverts to, counts by Byar's approximation to the exact Poisson limits.
func funnelLimit(stat string, target, mult, n, z float64, upper bool) float64 {
	switch stat {
	case "proportion":
		p := target / mult
		se := math.Sqrt(p * (1 - p) / n)
		v := p - z*se
		if upper {
			v = p + z*se
		}
		return math.Max(0, math.Min(1, v)) * mult
	default: // rates and ratios: counts against an expected count
		e := target / mult * n
		var c float64
		if upper {
			c = (e + 1) * math.Pow(1-1/(9*(e+1))+z/(3*math.Sqrt(e+1)), 3)
		} else {
			if e <= 0 {
				return 0
			}
			c = e * math.Pow(1-1/(9*e)-z/(3*math.Sqrt(e)), 3)
			c = math.Max(0, c)
		}
		return c / n * mult
	}
}

const (
	z95  = 1.959963984540054
	z998 = 3.090232306167813
)

type point struct {
	x, y, lo, hi float64
	hasCI        bool
	label, class string
	shape        string
}

func funnelClass(sig string) (string, string, string) {
	switch sig {
	case "High (0.001)":
		return "sig-hi2", "up", "above the 99.8% limit"
	case "High (0.025)":
		return "sig-hi1", "up", "above the 95% limit"
	case "Low (0.001)":
		return "sig-lo2", "down", "below the 99.8% limit"
	case "Low (0.025)":
		return "sig-lo1", "down", "below the 95% limit"
	}
	return "sig-no", "circle", "within the limits"
}

// noun names the areas a chart plots, one and many.
type noun struct{ one, many string }

var practiceNoun = noun{"practice", "practices"}

// areaNouns name the areas of each level a chart can plot.
var areaNouns = map[string]noun{"practice": practiceNoun, "pcn": {"PCN", "PCNs"},
	"sub_icb": {"sub-ICB location", "sub-ICB locations"}, "icb": {"ICB", "ICBs"}, "region": {"region", "regions"}}

// title is the plural with a capital first letter.
func (n noun) title() string { return strings.ToUpper(n.many[:1]) + n.many[1:] }

// funnelChart plots the areas' (practices') values against their
// denominators with smooth control limits around the England value.
func funnelChart(id string, in *indicator, rows []*ivRow, target float64, what noun) (template.HTML, bool) {
	var pts []point
	nmin, nmax := math.Inf(1), 0.0
	withheld := 0
	for _, r := range rows {
		if r.Suppressed {
			withheld++
		}
		if !r.Value.Valid || !r.Denominator.Valid || r.Denominator.V <= 0 {
			continue
		}
		cls, shape, where := funnelClass(r.Funnel)
		pts = append(pts, point{x: r.Denominator.V, y: r.Value.V, class: cls, shape: shape,
			label: fmt.Sprintf("%s (%s): %s %s, denominator %s; %s", r.AreaName, r.AreaCode, fmtNum(r.Value.V), in.Unit, fmtNum(r.Denominator.V), where)})
		nmin, nmax = math.Min(nmin, r.Denominator.V), math.Max(nmax, r.Denominator.V)
	}
	if len(pts) < 2 || math.IsNaN(target) || (in.Statistic != "proportion" && in.Statistic != "rate" && in.Statistic != "ratio") {
		return "", false
	}
	mult := in.Multiplier
	if mult == 0 {
		mult = 1
	}
	xs, ys, curves := funnelFrame(in, pts, target, mult, nmin, nmax)
	var b svgBuf
	high, low := 0, 0
	for _, p := range pts {
		if p.shape == "up" {
			high++
		} else if p.shape == "down" {
			low++
		}
	}
	b.open(id, fmt.Sprintf("Funnel plot: %s", in.Name),
		fmt.Sprintf("%d %s plotted by denominator against %s (%s). England value %s. %d above and %d below the 95%% limits; the rest within them.",
			len(pts), what.many, in.Name, in.Unit, fmtNum(target), high, low)+withheldNote(withheld, what))
	b.axes(xs, ys, niceTicks(0, xs.d1, 6), niceTicks(ys.d0, ys.d1, 6), "Denominator", in.Name+" ("+in.Unit+")", fmtNum)
	b.WriteString(`<clipPath id="` + id + `-clip"><rect x="` + f1(marginL) + `" y="` + f1(marginT) + `" width="` + f1(chartW-marginL-marginR) + `" height="` + f1(chartH-marginT-marginB) + `"/></clipPath>`)
	b.WriteString(`<g clip-path="url(#` + id + `-clip)">`)
	ty := ys.at(target)
	fmt.Fprintf(&b, `<line class="target" x1="%s" x2="%s" y1="%s" y2="%s"><title>England %s</title></line>`, f1(marginL), f1(chartW-marginR), f1(ty), f1(ty), html.EscapeString(fmtNum(target)))
	for k, c := range curves {
		cls := "limit95"
		name := "95% limit"
		if k >= 2 {
			cls, name = "limit998", "99.8% limit"
		}
		fmt.Fprintf(&b, `<path class="%s" d="%s"><title>%s</title></path>`, cls, polyline(c), name)
	}
	b.WriteString(`</g>`)
	for _, p := range pts {
		b.marker(p.shape, p.class, xs.at(p.x), ys.at(p.y), 4.5, p.label)
	}
	return b.close(), true
}

// funnelFrame scales the funnel plot and samples its four limit curves.
func funnelFrame(in *indicator, pts []point, target, mult, nmin, nmax float64) (scale, scale, [4][][2]float64) {
	// limits sampled geometrically, dense where they bend most
	const steps = 80
	lo := math.Max(1, nmin*0.9)
	hi := nmax * 1.05
	var curves [4][][2]float64
	ymin, ymax := target, target
	for _, p := range pts {
		ymin, ymax = math.Min(ymin, p.y), math.Max(ymax, p.y)
	}
	limitsAt := func(n float64) [4]float64 {
		return [4]float64{
			funnelLimit(in.Statistic, target, mult, n, z95, false), funnelLimit(in.Statistic, target, mult, n, z95, true),
			funnelLimit(in.Statistic, target, mult, n, z998, false), funnelLimit(in.Statistic, target, mult, n, z998, true),
		}
	}
	// include the limits at the smallest denominator in view, but never let
	// them stretch the axis more than the points' own spread
	l0 := limitsAt(nmin)
	span := math.Max(ymax-ymin, math.Abs(target)*0.05+1e-9)
	ymin = math.Max(math.Min(ymin, l0[2]), ymin-span)
	ymax = math.Min(math.Max(ymax, l0[3]), ymax+span)
	ymin, ymax = padRange(ymin, ymax, 0.06)
	if in.Statistic == "proportion" {
		ymin, ymax = math.Max(ymin, 0), math.Min(ymax, mult)
	} else {
		ymin = math.Max(ymin, 0)
	}
	xs := scale{0, hi, marginL, chartW - marginR}
	ys := scale{ymin, ymax, chartH - marginB, marginT}
	for i := 0; i <= steps; i++ {
		n := lo * math.Pow(hi/lo, float64(i)/steps)
		l := limitsAt(n)
		for k := range 4 {
			v := math.Max(ymin, math.Min(ymax, l[k]))
			curves[k] = append(curves[k], [2]float64{xs.at(n), ys.at(v)})
		}
	}
	return xs, ys, curves
}

func comparisonClass(label string) (string, string) {
	l := strings.ToLower(label)
	switch {
	case strings.Contains(l, "better"):
		return "cmp-better", "up"
	case strings.Contains(l, "worse"):
		return "cmp-worse", "down"
	case strings.Contains(l, "higher"):
		return "cmp-higher", "up"
	case strings.Contains(l, "lower"):
		return "cmp-lower", "down"
	case l == "similar":
		return "cmp-similar", "circle"
	}
	return "cmp-none", "square"
}

func withheldNote(n int, what noun) string {
	return hiddenNote(n, what, "its figures are withheld to protect confidentiality", "their figures are withheld to protect confidentiality")
}

// hiddenNote says how many areas (practices) a chart leaves out, and why.
func hiddenNote(n int, what noun, whyOne, whyMany string) string {
	switch n {
	case 0:
		return ""
	case 1:
		return " One " + what.one + " is not shown: " + whyOne + "."
	}
	return fmt.Sprintf(" %d %s are not shown: %s.", n, what.many, whyMany)
}

// caterpillarChart ranks the areas (practices) by value with their 95%
// intervals.
func caterpillarChart(id string, in *indicator, rows []*ivRow, england, area float64, areaName string, what noun) (template.HTML, bool) {
	var pts []point
	withheld := 0
	for _, r := range rows {
		if r.Suppressed {
			withheld++
		}
		if !r.Value.Valid {
			continue
		}
		cls, shape := comparisonClass(r.Comparison)
		p := point{y: r.Value.V, class: cls, shape: shape,
			label: fmt.Sprintf("%s (%s): %s %s; %s", r.AreaName, r.AreaCode, fmtNum(r.Value.V), in.Unit, r.Comparison)}
		if r.Lower95.Valid && r.Upper95.Valid {
			p.lo, p.hi, p.hasCI = r.Lower95.V, r.Upper95.V, true
			p.label += fmt.Sprintf(" (95%% interval %s to %s)", fmtNum(p.lo), fmtNum(p.hi))
		}
		pts = append(pts, p)
	}
	if len(pts) < 2 {
		return "", false
	}
	slices.SortStableFunc(pts, func(a, b point) int {
		if a.y != b.y {
			if a.y < b.y {
				return -1
			}
			return 1
		}
		return strings.Compare(a.label, b.label)
	})
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		ymin, ymax = math.Min(ymin, p.y), math.Max(ymax, p.y)
		if p.hasCI {
			ymin, ymax = math.Min(ymin, p.lo), math.Max(ymax, p.hi)
		}
	}
	for _, v := range []float64{england, area} {
		if !math.IsNaN(v) {
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
	}
	ymin, ymax = padRange(ymin, ymax, 0.06)
	xs := scale{0, float64(len(pts) + 1), marginL, chartW - marginR}
	ys := scale{ymin, ymax, chartH - marginB, marginT}
	var b svgBuf
	b.open(id, "Caterpillar plot: "+in.Name, fmt.Sprintf("%d %s ranked from lowest to highest %s (%s), each with its 95%% confidence interval; horizontal lines mark England and %s.",
		len(pts), what.many, in.Name, in.Unit, areaName)+withheldNote(withheld, what))
	b.axes(xs, ys, nil, niceTicks(ymin, ymax, 6), what.title()+", ranked", in.Name+" ("+in.Unit+")", fmtNum)
	refs := []struct {
		v          float64
		cls, label string
	}{{england, "target", "England"}, {area, "arealine", areaName}}
	for _, r := range refs {
		if math.IsNaN(r.v) {
			continue
		}
		y := ys.at(r.v)
		fmt.Fprintf(&b, `<line class="%s" x1="%s" x2="%s" y1="%s" y2="%s"><title>%s %s</title></line>`, r.cls, f1(marginL), f1(chartW-marginR), f1(y), f1(y),
			html.EscapeString(r.label), html.EscapeString(fmtNum(r.v)))
	}
	r := math.Max(1.5, math.Min(4, 300/float64(len(pts))))
	for i, p := range pts {
		x := xs.at(float64(i + 1))
		if p.hasCI {
			fmt.Fprintf(&b, `<line class="ci" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(x), f1(x), f1(ys.at(p.lo)), f1(ys.at(p.hi)))
		}
		b.marker(p.shape, p.class, x, ys.at(p.y), r, p.label)
	}
	return b.close(), true
}

// Making Data Count colours: common cause grey, improvement blue, concern
// orange, neutral purple; shapes repeat the meaning.
func spcClass(pointType string) (string, string, string) {
	switch {
	case strings.Contains(pointType, "improvement"):
		return "spc-imp", "square", "special cause: improvement"
	case strings.Contains(pointType, "concern"):
		return "spc-con", "diamond", "special cause: concern"
	case strings.Contains(pointType, "neutral"):
		return "spc-neu", "up", "special cause: neither better nor worse"
	case pointType == "":
		return "spc-none", "circle", "withheld or missing"
	}
	return "spc-common", "circle", "common cause variation"
}

// variationIcon draws the Making Data Count variation icon for the last
// point, with a letter (H or L) and a text label, so it reads without colour.
func variationIcon(icon string, lastAboveMean bool) (cls, letter, text string) {
	l := strings.ToLower(icon)
	cls = "spc-common"
	text = "Common cause variation: no significant change"
	switch {
	case strings.Contains(l, "improv"):
		cls, text = "spc-imp", "Special cause variation: improvement"
	case strings.Contains(l, "concern"):
		cls, text = "spc-con", "Special cause variation: concern"
	case strings.Contains(l, "neutral"):
		cls, text = "spc-neu", "Special cause variation: neither improvement nor concern"
	}
	switch {
	case strings.Contains(l, "high"):
		letter = "H"
	case strings.Contains(l, "low"):
		letter = "L"
	case cls != "spc-common" && lastAboveMean:
		letter = "H"
	case cls != "spc-common":
		letter = "L"
	}
	if letter != "" {
		text += map[string]string{"H": " (higher values)", "L": " (lower values)"}[letter]
	}
	return cls, letter, text
}

func spcChart(id string, in *indicator, series []*trendRow, areaName string) (template.HTML, string, bool) {
	if len(series) < 2 {
		return "", "", false
	}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, r := range series {
		for _, n := range []Num{r.Value, r.LPL, r.UPL, r.Mean} {
			if n.Valid {
				ymin, ymax = math.Min(ymin, n.V), math.Max(ymax, n.V)
			}
		}
	}
	if math.IsInf(ymin, 0) {
		return "", "", false
	}
	ymin, ymax = padRange(ymin, ymax, 0.08)
	xs := scale{0, float64(len(series) - 1), marginL + 10, chartW - marginR - 10}
	ys := scale{ymin, ymax, chartH - marginB, marginT}
	last := series[len(series)-1]
	above := last.Value.Valid && last.Mean.Valid && last.Value.V > last.Mean.V
	icon := last.Icon
	if icon == "" {
		icon = last.PointType
	}
	cls, letter, text := variationIcon(icon, above)
	var b svgBuf
	b.open(id, fmt.Sprintf("SPC chart: %s, %s", in.Name, areaName),
		fmt.Sprintf("%s by month from %s to %s with mean and process limits. %s.", in.Name, series[0].Period, last.Period, text))
	var xt []float64
	step := max(1, len(series)/8)
	for i := 0; i < len(series); i += step {
		xt = append(xt, float64(i))
	}
	b.axes(xs, ys, xt, niceTicks(ymin, ymax, 6), "Month", in.Name+" ("+in.Unit+")", func(v float64) string {
		i := int(v)
		if i >= 0 && i < len(series) {
			return series[i].Period
		}
		return ""
	})
	line := func(get func(*trendRow) Num, cls, name string) {
		var pts [][2]float64
		for i, r := range series {
			if n := get(r); n.Valid {
				pts = append(pts, [2]float64{xs.at(float64(i)), ys.at(n.V)})
			}
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<path class="%s" d="%s"><title>%s</title></path>`, cls, polyline(pts), name)
		}
	}
	line(func(r *trendRow) Num { return r.Mean }, "spc-mean", "Mean")
	line(func(r *trendRow) Num { return r.UPL }, "spc-limit", "Upper process limit")
	line(func(r *trendRow) Num { return r.LPL }, "spc-limit", "Lower process limit")
	line(func(r *trendRow) Num { return r.Value }, "spc-line", in.Name)
	for i, r := range series {
		if !r.Value.Valid {
			continue
		}
		c, shape, what := spcClass(r.PointType)
		b.marker(shape, c, xs.at(float64(i)), ys.at(r.Value.V), 4, fmt.Sprintf("%s: %s %s; %s", r.Period, fmtNum(r.Value.V), in.Unit, what))
	}
	// the icon, top right
	cx, cy := chartW-marginR-22, marginT+22
	fmt.Fprintf(&b, `<g class="icon"><circle class="%s icon-ring" cx="%s" cy="%s" r="18"><title>%s</title></circle><text x="%s" y="%s" text-anchor="middle" class="icon-letter">%s</text></g>`,
		cls, f1(cx), f1(cy), html.EscapeString(text), f1(cx), f1(cy+5), letter)
	return b.close(), text, true
}

// decileChart draws values by practice deprivation decile as bars whose
// widths are the deciles' population shares, so the slope index of
// inequality is a straight line across the chart.
func decileChart(id string, in *indicator, ds []*decileRow, sii Num, areaName string) (template.HTML, bool) {
	total, sum := 0.0, 0.0
	for _, d := range ds {
		if d.Denominator.Valid {
			total += d.Denominator.V
			if d.Value.Valid {
				sum += d.Value.V * d.Denominator.V
			}
		}
	}
	if len(ds) < 2 || total <= 0 {
		return "", false
	}
	ymax := 0.0
	for _, d := range ds {
		for _, n := range []Num{d.Value, d.Upper95} {
			if n.Valid {
				ymax = math.Max(ymax, n.V)
			}
		}
	}
	mean := sum / total
	if sii.Valid {
		ymax = math.Max(ymax, mean+math.Abs(sii.V)/2)
	}
	if ymax <= 0 {
		ymax = 1
	}
	ymax *= 1.08
	xs := scale{0, 1, marginL, chartW - marginR}
	ys := scale{0, ymax, chartH - marginB, marginT}
	var b svgBuf
	desc := fmt.Sprintf("%s (%s) by practice deprivation decile, from 1 (most deprived, left) to 10 (least deprived, right); bar widths are population shares.", in.Name, in.Unit)
	if sii.Valid {
		desc += fmt.Sprintf(" Slope index of inequality %s: the modelled gap from the most to the least deprived.", fmtNum(sii.V))
	}
	b.open(id, fmt.Sprintf("Deprivation deciles: %s, %s", in.Name, areaName), desc)
	b.axes(xs, ys, []float64{0, 0.25, 0.5, 0.75, 1}, niceTicks(0, ymax, 5), "Population, most deprived (left) to least deprived (right)", in.Name+" ("+in.Unit+")",
		func(v float64) string { return strconv.Itoa(int(math.Round(v*100))) + "%" })
	cum := 0.0
	for _, d := range ds {
		if !d.Denominator.Valid || d.Denominator.V <= 0 {
			continue
		}
		w := d.Denominator.V / total
		x0, x1 := xs.at(cum), xs.at(cum+w)
		cum += w
		mid := (x0 + x1) / 2
		if !d.Value.Valid {
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" class="star">*<title>Decile %d: withheld</title></text>`, f1(mid), f1(chartH-marginB-6), d.Decile)
			continue
		}
		y := ys.at(d.Value.V)
		t := fmt.Sprintf("Decile %d: %s %s, %d practices", d.Decile, fmtNum(d.Value.V), in.Unit, d.Practices)
		fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			f1(x0+1), f1(y), f1(math.Max(0.5, x1-x0-2)), f1(chartH-marginB-y), html.EscapeString(t))
		if d.Lower95.Valid && d.Upper95.Valid {
			fmt.Fprintf(&b, `<line class="ci" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(mid), f1(mid), f1(ys.at(d.Lower95.V)), f1(ys.at(d.Upper95.V)))
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" class="small">%d</text>`, f1(mid), f1(chartH-marginB-4), d.Decile)
	}
	if sii.Valid {
		// the weighted least-squares line passes through (0.5, population-weighted mean)
		y0, y1 := mean-sii.V/2, mean+sii.V/2
		fmt.Fprintf(&b, `<path class="sii" d="M%s %sL%s %s"><title>Slope index of inequality: %s</title></path>`,
			f1(xs.at(0)), f1(ys.at(math.Max(0, y0))), f1(xs.at(1)), f1(ys.at(math.Max(0, y1))), html.EscapeString(fmtNum(sii.V)))
	}
	return b.close(), true
}
