package publish

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strings"
)

type htmlCell struct {
	Text, Class, Symbol string
	Num                 bool
}

type htmlTable struct {
	ID      string
	Caption string
	Head    []string
	Rows    [][]htmlCell
}

type htmlIndicator struct {
	ID, Name, Unit, Period, Polarity, Description string
	Anchor                                        string
	Public                                        bool
	Funnel, Caterpillar, SPC, Deciles             template.HTML
	SPCText                                       string
	DecileArea                                    string
	// Plotted names the areas the funnel and caterpillar plot: the
	// pack's deepest listed level (practices unless list_down_to stops above).
	PlottedOne, PlottedMany, PlottedTitle string
	Inequality                            *htmlTable
	Headline                              string
}

type htmlPage struct {
	Title, Period, Area, AreaLevel, AreaCode, Parent, Version string
	Summary                                                   *htmlTable
	Practices                                                 htmlTable
	Indicators                                                []htmlIndicator
	Investment                                                *htmlInvestment
	Sources                                                   []SourceFile
	Periods                                                   htmlTable
	Methods                                                   []string
	Need                                                      needModel
	SDCRule                                                   string
	Counts                                                    SuppressionCounts
	CSS                                                       template.CSS
}

var pageTmpl = template.Must(template.New("pack").Parse(`<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="lede">{{.AreaLevel}} {{.AreaCode}}{{if .Parent}}, part of {{.Parent}}{{end}}. Data for {{.Period}}. Produced by gplens {{.Version}}.
Figures shown as <strong>*</strong> are withheld to protect confidentiality.</p>
<nav aria-label="Contents"><h2 class="navh">Contents</h2><ol>
{{if .Summary}}<li><a href="#summary">Summary</a></li>{{end}}
{{if .Practices.Rows}}<li><a href="#practices">Practices</a></li>{{end}}
{{range .Indicators}}<li><a href="#{{.Anchor}}">{{.Name}}</a></li>
{{end}}{{if .Investment}}<li><a href="#investment">Investment and need</a></li>
{{end}}<li><a href="#notes">Notes and sources</a></li>
</ol></nav>
</header>
<main>
{{with .Summary}}<section id="summary"><h2>Summary</h2>
{{template "table" .}}
</section>{{end}}
{{if .Practices.Rows}}<section id="practices"><h2>Practices</h2>
<p>Each practice's value of the key indicators and how it compares with England. The label and symbol give the comparison; the colour repeats it.</p>
<div class="scroll">{{template "table" .Practices}}</div>
</section>{{end}}
{{range .Indicators}}<section id="{{.Anchor}}" class="indicator"><h2>{{.Name}}</h2>
<p class="meta">{{.Unit}} &middot; {{.Period}} &middot; {{.Polarity}}{{if not .Public}} &middot; disclosure control applied{{end}}</p>
{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .Headline}}<p>{{.Headline}}</p>{{end}}
{{if .Funnel}}<figure><h3>Funnel plot</h3>{{.Funnel}}
<figcaption>{{.PlottedTitle}} by denominator. Dashed lines: 95% limits; solid lines: 99.8% limits around the England value (horizontal line). ▲ above, ▼ below the limits, ● within. Hover a point for the {{.PlottedOne}}.</figcaption></figure>{{end}}
{{if .Caterpillar}}<figure><h3>Ranked {{.PlottedMany}}</h3>{{.Caterpillar}}
<figcaption>{{.PlottedTitle}} ranked by value with 95% intervals. ▲ better or higher, ▼ worse or lower than England, ● similar, ■ not compared. Dashed line: England; dotted line: this area.</figcaption></figure>{{end}}
{{if .SPC}}<figure><h3>Trend (statistical process control)</h3>{{.SPC}}
<figcaption>{{.SPCText}}. Grey ● common cause; blue ■ improvement; orange ◆ concern; purple ▲ neither. Dashed lines: process limits; solid: mean.</figcaption></figure>{{end}}
{{if .Deciles}}<figure><h3>By deprivation ({{.DecileArea}})</h3>{{.Deciles}}
<figcaption>Bars: value by practice deprivation decile (1 = most deprived), widths by population; whiskers: 95% intervals; red line: slope index of inequality.</figcaption></figure>{{end}}
{{with .Inequality}}{{template "table" .}}{{end}}
</section>
{{end}}
{{with .Investment}}<section id="investment"><h2>Investment and need</h2>
<p class="meta">Payments and staff against need &middot; financial year {{.Period}}</p>
<p>{{$.Need.NeedIntro}}</p>
{{if .Headline}}<p>{{.Headline}}</p>{{end}}
{{if .QuintileChart}}<figure><h3>Funding per need-weighted patient by deprivation</h3>{{.QuintileChart}}
<figcaption>Bars: payments per need-weighted patient by national deprivation quintile of the practice (1 = most deprived); England plain, this area hatched; whiskers: 95% intervals from the spread of the quintile's practices.</figcaption></figure>{{end}}
{{range .Quintiles}}{{template "table" .}}{{end}}
{{if .GapChart}}<figure><h3>Fair-share gaps of the practices in {{.AreaName}}</h3>{{.GapChart}}
<figcaption>Each practice's payments minus its need-based share of the area's payments (£ thousand), ranked; {{$.Need.GapCaption}} ▼ below and ▲ above the fair share over the whole interval, ● about its fair share. Hover a point for the practice.</figcaption></figure>{{end}}
{{with .Gaps}}<p>The fair-share gap is taken among the area's compared practices, so their gaps add up to zero. Similar practices are {{$.Need.PeersText}} by deprivation, list size, age structure, rurality, dispensing status and weighted list (after NHS RightCare); the gap to similar practices is what the practice has above (below, if negative) their rate for its own need-weighted patients.{{with $.Investment.NotCompared}} {{.}}{{end}}</p>
<div class="scroll">{{template "table" .}}</div>{{end}}
</section>
{{end}}<section id="notes"><h2>Notes and sources</h2>
<h3>Sources</h3>
{{if .Sources}}<table><caption>Source files used, with their periods and SHA-256 checksums</caption>
<thead><tr><th scope="col">File</th><th scope="col">Period</th><th scope="col">SHA-256</th></tr></thead><tbody>
{{range .Sources}}<tr><td>{{.Name}}</td><td>{{.Period}}</td><td class="mono">{{.SHA256}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No source list was given to the publisher.</p>{{end}}
{{template "table" .Periods}}
<h3>Methods</h3><ul>{{range .Methods}}<li>{{.}}</li>{{end}}</ul>
<h3>Disclosure control</h3>
<p>{{.SDCRule}}.</p>
<p>Cells withheld in this pack: {{.Counts.Primary}} primary, {{.Counts.Secondary}} secondary, {{.Counts.Upstream}} by the models.</p>
</section>
</main>
</body>
</html>
{{define "table"}}<table{{if .ID}} id="{{.ID}}"{{end}}><caption>{{.Caption}}</caption>
<thead><tr>{{range .Head}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range $i, $c := .}}{{if eq $i 0}}<th scope="row">{{$c.Text}}</th>{{else}}<td{{if $c.Class}} class="{{$c.Class}}"{{else if $c.Num}} class="num"{{end}}>{{if $c.Symbol}}<span aria-hidden="true">{{$c.Symbol}}</span> {{end}}{{$c.Text}}</td>{{end}}{{end}}</tr>
{{end}}</tbody></table>{{end}}`))

const pageCSS = `
:root{--ink:#1d1d1b;--muted:#5a5a5a;--rule:#c8c8c8;--blue:#005eb8;--orange:#ed8b00;--purple:#7c2855;--grey:#a6a6a6}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:var(--ink);margin:0 auto;max-width:70rem;padding:1rem 1.5rem;line-height:1.45}
h1{font-size:1.8rem;margin:.5rem 0}h2{font-size:1.4rem;border-bottom:2px solid var(--blue);padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.1rem;margin:1rem 0 .3rem}
.navh{font-size:1rem;border:0;margin:.5rem 0 0}nav ol{columns:2;font-size:.95rem}
.lede,.meta{color:var(--muted)}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border-bottom:1px solid var(--rule);padding:.25rem .5rem;text-align:left;vertical-align:top}thead th{background:#e8eef6;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem;word-break:break-all}
.scroll{overflow-x:auto}
td.cmp-better{background:#c6e9d3}td.cmp-worse{background:#f8d0c8}td.cmp-similar{background:#fff2b3}td.cmp-higher{background:#cfe0f3}td.cmp-lower{background:#e3d6ee}td.cmp-none{background:#f2f2f2}
figure{margin:1rem 0;break-inside:avoid}figcaption{color:var(--muted);font-size:.85rem}
svg.chart{width:100%;max-width:760px;height:auto;display:block;font-size:11px;background:#fff}
.axis text{fill:#333}.axis .label{font-size:12px;fill:#222}.grid{stroke:#e6e6e6}.frame,.tick{stroke:#555}
.target{stroke:#222;stroke-width:1.5;stroke-dasharray:6 3}.arealine{stroke:var(--blue);stroke-width:1.5;stroke-dasharray:2 3}
.limit95{fill:none;stroke:#555;stroke-width:1.2;stroke-dasharray:5 4}.limit998{fill:none;stroke:#222;stroke-width:1.4}
.sig-no{fill:#a6a6a6;stroke:#555}.sig-hi1{fill:#7fb3e0;stroke:#003d78}.sig-hi2{fill:#005eb8;stroke:#003d78}.sig-lo1{fill:#f6bd7a;stroke:#8a4f00}.sig-lo2{fill:#ed8b00;stroke:#8a4f00}
.cmp-better{fill:#009639;stroke:#00572a}.cmp-worse{fill:#d5281b;stroke:#7a1710}.cmp-similar{fill:#ffb81c;stroke:#7a5800}.cmp-higher{fill:#005eb8;stroke:#003d78}.cmp-lower{fill:#7c2855;stroke:#4a1833}.cmp-none{fill:#d9d9d9;stroke:#777}
.ci{stroke:#777;stroke-width:1}
.spc-line{fill:none;stroke:#7f7f7f;stroke-width:1.2}.spc-mean{fill:none;stroke:#222;stroke-width:1.2}.spc-limit{fill:none;stroke:#555;stroke-dasharray:5 4}
.spc-common{fill:#a6a6a6;stroke:#6b6b6b}.spc-imp{fill:#41b6e6;stroke:#005eb8}.spc-con{fill:#ed8b00;stroke:#8a4f00}.spc-neu{fill:#9e7bb5;stroke:#5b2c6f}.spc-none{fill:#fff;stroke:#999}
.icon-ring{stroke-width:3}.icon-letter{font-size:16px;font-weight:700;fill:#fff}
.bar{fill:#9fc3e8;stroke:#4a7cb0}.inv-eng{fill:#a6a6a6;stroke:#555}.inv-area{fill:#9fc3e8;stroke:#003d78}.inv-areabar{stroke:#003d78}.inv-hatch{stroke:#003d78;stroke-width:2}.sii{stroke:#d5281b;stroke-width:2.5;fill:none}.small{font-size:10px;fill:#333}.star{font-size:16px;font-weight:700}
@media print{body{max-width:none;padding:0;font-size:10pt}nav{display:none}h2{break-after:avoid}section{break-before:auto}thead th{position:static}
figure,table{break-inside:avoid}.scroll{overflow:visible}a{color:inherit;text-decoration:none}td.cmp-better,td.cmp-worse,td.cmp-similar,td.cmp-higher,td.cmp-lower{print-color-adjust:exact;-webkit-print-color-adjust:exact}}
`

func fmtCell(n Num, withheld bool) htmlCell {
	if n.Valid {
		return htmlCell{Text: fmtNum(n.V), Num: true}
	}
	if withheld {
		return htmlCell{Text: "*", Num: true}
	}
	return htmlCell{Text: "–", Num: true}
}

var cmpSymbol = map[string]string{"up": "▲", "down": "▼", "circle": "●", "square": "■"}

func anchor(id string) string {
	var b strings.Builder
	b.WriteString("ind-")
	for _, c := range id {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func renderHTML(p *pack, opts *Options) ([]byte, error) {
	pg := htmlPage{
		Title:  fmt.Sprintf("GP data pack: %s, %s", p.Area.Name, p.Period),
		Period: p.Period, Area: p.Area.Name, AreaLevel: levelLabel(p.Area.Level), AreaCode: p.Area.Code, Version: opts.Version,
		Sources: opts.Sources, Methods: methodNotes(opts.need), Need: opts.need, SDCRule: sdcRule(opts.Suppression), Counts: p.Counts, CSS: template.CSS(pageCSS),
	}
	if par := p.parent(); par.Level != "england" {
		pg.Parent = fmt.Sprintf("%s (%s %s)", par.Name, levelLabel(par.Level), par.Code)
	}
	pg.Summary = htmlSummary(p)
	pg.Practices = htmlPractices(p)
	pg.Periods = htmlTable{Caption: "Indicators and the period each shows", Head: []string{"Indicator", "Name", "Period", "Public data"}}
	for _, in := range p.Indicators {
		pub := "yes"
		if !in.Public {
			pub = "no: disclosure control applied"
		}
		pg.Periods.Rows = append(pg.Periods.Rows, []htmlCell{{Text: in.ID}, {Text: in.Name}, {Text: periodLabel(in.Period)}, {Text: pub}})
	}
	for k, in := range p.Key {
		pg.Indicators = append(pg.Indicators, htmlKeyIndicator(p, in, fmt.Sprintf("c%d", k)))
	}
	pg.Investment = htmlInvestmentPart(p)
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, pg); err != nil {
		return nil, fmt.Errorf("html: %w", err)
	}
	return b.Bytes(), nil
}

// htmlSummary is the Summary table: each measure with its period; a
// measure with no figure is left out, and so is the table when none has.
func htmlSummary(p *pack) *htmlTable {
	sum := p.summary()
	cols := summaryColumns(p)
	head := []string{"Measure", "Period"}
	for _, a := range cols {
		head = append(head, a.Name)
	}
	t := &htmlTable{Caption: fmt.Sprintf("Headline figures for %s compared with %s, each the latest available at %s",
		p.Area.Name, strings.Join(head[3:], " and "), periodLabel(p.Period)), Head: head}
	for _, m := range summaryMeasures {
		period, ok := summaryPeriod(sum, cols, m.measure)
		if !ok {
			continue
		}
		row := []htmlCell{{Text: m.label}, {Text: periodLabel(period)}}
		for _, a := range cols {
			v := sum[summaryKey(a, m.measure)]
			row = append(row, fmtCell(v.V, v.Withheld))
		}
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return t
}

func htmlPractices(p *pack) htmlTable {
	pt := htmlTable{Caption: fmt.Sprintf("Practices in %s: key indicators compared with England", p.Area.Name),
		Head: []string{"Practice", "PCN", "List size", "IMD decile"}}
	for _, in := range p.Key {
		pt.Head = append(pt.Head, fmt.Sprintf("%s (%s, %s)", in.Name, in.Unit, periodLabel(in.Period)), "vs England")
	}
	vals := p.practiceValues()
	t := p.section("practices")
	for r := 0; t != nil && r < t.n; r++ {
		code := t.str(r, "practice_code")
		row := []htmlCell{{Text: t.str(r, "practice_name") + " (" + code + ")"}, {Text: t.str(r, "pcn_name")},
			fmtCell(t.num(r, "list_size"), false), fmtCell(t.num(r, "imd_decile"), false)}
		for _, in := range p.Key {
			v := vals[in.ID+"|"+code]
			switch {
			case v == nil:
				row = append(row, htmlCell{Text: "–", Num: true}, htmlCell{Text: "no data"})
			case v.Suppressed:
				row = append(row, fmtCell(Num{}, true), htmlCell{Text: "withheld"})
			default:
				cls, shape := comparisonClass(v.Comparison)
				row = append(row, fmtCell(v.Value, false), htmlCell{Text: v.Comparison, Class: cls, Symbol: cmpSymbol[shape]})
			}
		}
		pt.Rows = append(pt.Rows, row)
	}
	return pt
}

// htmlKeyIndicator is one key indicator's section: headline, charts and
// its inequality table (each only when the pack has the data).
func htmlKeyIndicator(p *pack, in *indicator, id string) htmlIndicator {
	hi := htmlIndicator{ID: in.ID, Name: in.Name, Unit: in.Unit, Period: domainWord(in.Domain) + " " + periodLabel(in.Period),
		Polarity: strings.ReplaceAll(in.Polarity, "_", " "), Description: in.Description, Anchor: anchor(in.ID), Public: in.Public}
	// the funnel and caterpillar plot the areas of the deepest level listed
	plotted := cmpOr(p.Deepest, "practice")
	what, ok := areaNouns[plotted]
	if !ok {
		what = practiceNoun
	}
	hi.PlottedOne, hi.PlottedMany, hi.PlottedTitle = what.one, what.many, what.title()
	var practices []*ivRow
	england, area := math.NaN(), math.NaN()
	for _, r := range p.values(in.ID) {
		switch {
		case r.AreaLevel == plotted && plotted != p.Area.Level:
			practices = append(practices, r)
		case r.AreaLevel == "england" && r.Value.Valid:
			england = r.Value.V
		case r.AreaLevel == p.Area.Level && r.AreaCode == p.Area.Code && r.Value.Valid:
			area = r.Value.V
		}
	}
	if math.IsNaN(england) {
		for _, r := range practices {
			if r.England.Valid {
				england = r.England.V
				break
			}
		}
	}
	if !math.IsNaN(area) && !math.IsNaN(england) {
		hi.Headline = fmt.Sprintf("%s: %s %s; England: %s %s.", p.Area.Name, fmtNum(area), in.Unit, fmtNum(england), in.Unit)
	}
	hi.Funnel, _ = funnelChart(id+"f", in, practices, england, what)
	hi.Caterpillar, _ = caterpillarChart(id+"c", in, practices, england, area, p.Area.Name, what)
	if s := p.trend(in.ID, p.Area); len(s) > 0 {
		hi.SPC, hi.SPCText, _ = spcChart(id+"s", in, s, p.Area.Name)
	}
	ineq := p.inequality(in.ID)
	for _, who := range append([]areaRef{p.Area}, p.Ancestors...) {
		ds := p.deciles(in.ID, who)
		if len(ds) == 0 {
			continue
		}
		var sii Num
		for _, r := range ineq {
			if r.AreaLevel == who.Level && (who.Level == "england" || r.AreaCode == who.Code) {
				sii = r.SII
			}
		}
		hi.Deciles, _ = decileChart(id+"d", in, ds, sii, who.Name)
		hi.DecileArea = who.Name
		break
	}
	hi.Inequality = htmlInequality(in, ineq)
	return hi
}

func htmlInequality(in *indicator, rows []*ineqRow) *htmlTable {
	if len(rows) == 0 {
		return nil
	}
	it := &htmlTable{Caption: "Inequality in " + in.Name + " by deprivation", Head: []string{"Area", "SII", "SII 95% interval", "RII", "Most deprived quintile", "Least deprived quintile"}}
	for _, r := range rows {
		ci := "–"
		if r.SIILower.Valid && r.SIIUpper.Valid {
			ci = fmtNum(r.SIILower.V) + " to " + fmtNum(r.SIIUpper.V)
		}
		it.Rows = append(it.Rows, []htmlCell{{Text: r.AreaName + " (" + levelLabel(r.AreaLevel) + ")"}, fmtCell(r.SII, false), {Text: ci, Num: true},
			fmtCell(r.RII, false), fmtCell(r.Q1, false), fmtCell(r.Q5, false)})
	}
	return it
}
