package synth

import (
	"math"
	"sort"
)

// qofLists are the practice's age-specific lists at the QOF reference date.
type qofLists map[string]int64

// qofResult is one practice's QOF year.
type qofResult struct {
	lists     qofLists
	registers []int64 // per PrevalenceGroups
	ind       []indResult
	points    float64
}

type indResult struct {
	register, numerator, denominator, pcas int64
	points                                 float64
	hasNumbers                             bool
}

// nat65 is England's 65+ share under the base pyramid.
var nat65 = func() float64 {
	var all, old float64
	for b := 0; b < nBands; b++ {
		all += baseAgeFemale[b] + baseAgeMale[b]
		if b >= 13 {
			old += baseAgeFemale[b] + baseAgeMale[b]
		}
	}
	return old / all
}()

var groupIndex = func() map[string]int {
	m := map[string]int{}
	for i, g := range PrevalenceGroups {
		m[g.Code] = i
	}
	return m
}()

// cellsAt splits the modelled list at m (open or not) by age and sex.
func (w *World) cellsAt(p *Practice, m month, out []int64) []int64 {
	return largestRemainder(w.listAt(p, m), p.AgeShare[:], out)
}

func listsFrom(c []int64) qofLists {
	band := func(b int) float64 { return float64(c[b] + c[nBands+b]) }
	from := func(b0 int) float64 {
		var s float64
		for b := b0; b < nBands; b++ {
			s += band(b)
		}
		return s
	}
	fem := func(b0, b1 int) float64 {
		var s float64
		for b := b0; b <= b1; b++ {
			s += float64(c[b])
		}
		return s
	}
	r := func(x float64) int64 { return int64(math.Round(x)) }
	return qofLists{
		"TOTAL":  r(from(0)),
		"06OV":   r(from(2) + 0.8*band(1)),
		"15OV":   r(from(3)),
		"16OV":   r(from(4) + 0.8*band(3)),
		"17OV":   r(from(4) + 0.6*band(3)),
		"18OV":   r(from(4) + 0.4*band(3)),
		"45OV":   r(from(9)),
		"50OV":   r(from(10)),
		"F25_49": r(fem(5, 9)),
		"F50_64": r(fem(10, 12)),
		"0_1":    r(band(0) / 5),
		"1_2":    r(band(0) / 5),
		"4_5":    r(band(0)/10 + band(1)/10),
		"79_80":  r(band(15)/5 + band(16)/5),
	}
}

// qofFor computes a practice's QOF year (fy is the April that starts it).
// It is deterministic, so the QOF and payments writers can both call it.
func (w *World) qofFor(p *Practice, fy month) qofResult {
	ref := fy + 9 // January: the QOF list size date
	cells := w.cellsAt(p, ref, nil)
	lists := listsFrom(cells)
	var old float64
	for b := 13; b < nBands; b++ {
		old += float64(cells[b] + cells[nBands+b])
	}
	share65 := old / math.Max(1, float64(lists["TOTAL"]))
	r := newRand(w.Seed, stQOF, uint64(p.Index), uint64(fy))
	res := qofResult{lists: lists, registers: make([]int64, len(PrevalenceGroups))}
	yr := float64(fy.year() - 2022)
	for gi, g := range PrevalenceGroups {
		// a practice's coding habits persist across years
		pe := 0.3 * hashNorm(w.Seed, stQOF, uint64(p.Index), uint64(gi)+1<<32)
		prev := g.Base * math.Pow(share65/nat65, g.AgeElasticity) * math.Exp(g.DeprivationSlope*p.Dz+pe+0.01*yr)
		lam := float64(lists[g.ListType]) * prev
		if p.Specialist && (g.Code == "LD" || g.Code == "MH") {
			// a specialist practice (e.g. for people with learning disabilities)
			// whose register exceeds its list: a real-world oddity
			lam = float64(lists[g.ListType]) * 1.15
		}
		res.registers[gi] = poisson(r, lam)
	}
	// national drift: slow improvement, and a dip in 2020-21 (COVID-19)
	yearShift := 0.005 * yr
	if fy.year() == 2020 {
		yearShift -= 0.06
	}
	res.ind = make([]indResult, len(Indicators))
	for ii, ind := range Indicators {
		var ir indResult
		switch ind.Kind {
		case KindRegister:
			ir.register = res.registers[groupIndex[ind.Group]]
			if ir.register > 0 {
				ir.points = ind.Points
			}
		case KindPoints:
			if r.Float64() < ind.BaseRate+p.Quality {
				ir.points = ind.Points
			}
		case KindPercent:
			var base int64
			if gi, ok := groupIndex[ind.Base]; ok {
				base = res.registers[gi]
			} else if len(ind.Base) > 5 && ind.Base[:5] == "LIST:" {
				base = lists[ind.Base[5:]]
			}
			eligible := binomial(r, base, ind.Fraction)
			if ind.Fraction >= 1 {
				eligible = base
			}
			pcas := binomial(r, eligible, clamp(ind.PCARate*math.Exp(0.3*r.NormFloat64()), 0, 0.9))
			den := eligible - pcas
			rate := clamp(ind.BaseRate+p.Quality+yearShift+0.04*r.NormFloat64(), 0.02, 1)
			num := binomial(r, den, rate)
			ir = indResult{numerator: num, denominator: den, pcas: pcas, hasNumbers: true}
			if den > 0 {
				ir.points = round(Points(ind, 100*float64(num)/float64(den)), 2)
			}
		}
		res.points += ir.points
		res.ind[ii] = ir
	}
	return res
}

// inQOF: practices in a QOF year are those open at its end (or at the window's end).
func (w *World) inQOF(p *Practice, fy month) bool {
	at := fy + 11
	if at > w.End {
		at = w.End
	}
	return p.OpenIn(at)
}

// byCode returns practice indexes sorted by practice code.
func (w *World) byCode() []int {
	if w.codeOrder == nil {
		idx := make([]int, len(w.Practices))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return w.Practices[idx[a]].Code < w.Practices[idx[b]].Code })
		w.codeOrder = idx
	}
	return w.codeOrder
}

const (
	qofAchievementHeader = "PRACTICE_CODE,INDICATOR_CODE,MEASURE,VALUE"
	qofPrevalenceHeader  = "PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE"
	qofMappingHeader     = "INDICATOR_CODE,INDICATOR_DESCRIPTION,INDICATOR_POINT_VALUE,INDICATOR_GROUP_CODE,INDICATOR_GROUP_DESCRIPTION,DOMAIN_CODE,DOMAIN_DESCRIPTION,PATIENT_LIST_TYPE"
	qofGeoHeader         = "NAT_ONS_CODE,NAT_CODE,NAT_COUNTRY,REGION_ODS_CODE,REGION_ONS_CODE,REGION_NAME,ICB_ODS_CODE,ICB_ONS_CODE,ICB_NAME,SUB_ICB_ODS_CODE,SUB_ICB_ONS_CODE,SUB_ICB_NAME,PCN_ODS_CODE,PCN_NAME,PRACTICE_CODE,PRACTICE_NAME"
)

// IndicatorDescription is synth's wording for an indicator (the real wording is long).
func IndicatorDescription(ind Indicator) string {
	switch ind.Kind {
	case KindRegister:
		return "The contractor establishes and maintains a register of patients with " + lowerFirst(ind.GroupDescription)
	case KindPoints:
		return "The contractor can demonstrate continuous quality improvement activity focused on " + lowerFirst(ind.GroupDescription)
	}
	return "The percentage of patients in the " + lowerFirst(ind.GroupDescription) + " population, on the register, who received the care in indicator " + ind.Code + " in the preceding 12 months"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'A' && b[0] <= 'Z' && !(len(b) > 1 && b[1] >= 'A' && b[1] <= 'Z') {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

func (g *gen) writeQOF(fy month) error {
	w := g.w
	dir := "qof/" + fyLabel(fy) + "/"
	yz := fyShort(fy)
	tk := &ticker{ctx: g.ctx}
	if err := g.file(dir+"ACHIEVEMENT_"+yz+".csv", optsQOF, qofAchievementHeader, func(f *csvFile) error {
		for _, i := range w.byCode() {
			p := &w.Practices[i]
			if !w.inQOF(p, fy) {
				continue
			}
			if err := tk.tick(); err != nil {
				return err
			}
			res := w.qofFor(p, fy)
			for ii, ind := range Indicators {
				ir := res.ind[ii]
				row := func(measure, value string) {
					f.str(p.Code).str(ind.Code).str(measure).str(value).end()
				}
				// measures in alphabetical order, as the published file sorts them
				row("ACHIEVED_POINTS", fmtQOF(ir.points))
				if ir.hasNumbers {
					row("DENOMINATOR", fmtPointOne(ir.denominator))
					row("NUMERATOR", fmtPointOne(ir.numerator))
					row("PCAS", fmtPointOne(ir.pcas))
				}
				if ind.Kind == KindRegister {
					row("REGISTER", fmtPointOne(ir.register))
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := g.file(dir+"PREVALENCE_"+yz+".csv", optsQOF, qofPrevalenceHeader, func(f *csvFile) error {
		for _, i := range w.byCode() {
			p := &w.Practices[i]
			if !w.inQOF(p, fy) {
				continue
			}
			res := w.qofFor(p, fy)
			for gi, grp := range PrevalenceGroups {
				f.str(p.Code).str(grp.Code).str(fmtPointOne(res.registers[gi])).str(grp.ListType).int(res.lists[grp.ListType]).end()
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := g.file(dir+"MAPPING_INDICATORS_"+yz+".csv", optsQOF, qofMappingHeader, func(f *csvFile) error {
		for _, ind := range Indicators {
			f.str(ind.Code).str(IndicatorDescription(ind)).str(fmtNum(ind.Points, 2)).str(ind.Group).str(ind.GroupDescription)
			f.str(ind.Domain).str(ind.DomainDesc).str(ind.ListType).end()
		}
		return nil
	}); err != nil {
		return err
	}
	at := fy + 11
	if at > w.End {
		at = w.End
	}
	return g.file(dir+"MAPPING_NHS_GEOGRAPHIES_"+yz+".csv", optsQOF, qofGeoHeader, func(f *csvFile) error {
		for _, i := range w.byCode() {
			p := &w.Practices[i]
			if !w.inQOF(p, fy) {
				continue
			}
			sub := w.SubICBs[p.SubICB]
			icb := w.ICBs[sub.ICB]
			rg := Regions[icb.Region]
			pcnCode, pcnName := "", ""
			if k := p.PCNAt(at); k >= 0 {
				pcnCode, pcnName = w.PCNs[k].Code, w.PCNs[k].Name
			}
			f.str("E92000001").str("ENG").str("England").str(rg.Code).str(rg.ONS).str(rg.Name)
			f.str(icb.Code).str(icb.ONS).str(icb.Name).str(sub.Code).str(sub.ONS).str(sub.Name)
			f.str(pcnCode).str(pcnName).str(p.Code).str(p.Name).end()
		}
		return nil
	})
}
