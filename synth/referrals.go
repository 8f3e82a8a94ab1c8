package synth

import (
	"math"
	"math/rand/v2"
)

const (
	referralsAggHeader = "PRACTICE_CODE,MONTH,TREATMENT_FUNCTION_CODE,PRIORITY,AGE_BAND,SEX,REFERRALS"
	referralsRecHeader = "REFERRAL_ID,REFERRAL_DATE,PRACTICE_CODE,AGE,SEX,TREATMENT_FUNCTION_CODE,PRIORITY"
)

// Referral cells: specialty x priority x band x sex, in output order.
const nRefCells = 15 * 3 * nBands * 2

func refCell(tfc, pri, band, sex int) int { return ((tfc*3+pri)*nBands+band)*2 + sex }

// refTables are cumulative specialty and priority shares per age group and sex.
type refTables struct {
	tfc [3][2][]float64 // [child/adult/older][female/male] cumulative
	pri [3][]float64
}

func ageGroup(band int) int {
	switch {
	case band < 3:
		return 0
	case band < 13:
		return 1
	}
	return 2
}

var refTab = func() refTables {
	var t refTables
	for ag := 0; ag < 3; ag++ {
		for sex := 0; sex < 2; sex++ {
			var cum []float64
			var s float64
			for _, sp := range Specialties {
				x := []float64{sp.Child, sp.Adult, sp.Older}[ag]
				if sp.FemaleOnly && sex == 1 {
					x = 0
				}
				if sp.MaleBias && sex == 1 {
					x *= 2
				}
				s += x
				cum = append(cum, s)
			}
			for i := range cum {
				cum[i] /= s
			}
			t.tfc[ag][sex] = cum
		}
		var s float64
		var cum []float64
		for _, x := range priorityShares[ag] {
			s += x
			cum = append(cum, s)
		}
		for i := range cum {
			cum[i] /= s
		}
		t.pri[ag] = cum
	}
	return t
}()

func pick(cum []float64, u float64) int {
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

// referralWeights: each practice's expected referrals in month m (0 if closed)
// and the cumulative age-sex propensity of its patients.
func (w *World) referralExpected(p *Practice, m month) float64 {
	list := w.ListSize(p, m)
	if list == 0 {
		return 0
	}
	var agef, tot float64
	for b := 0; b < nBands; b++ {
		s := p.AgeShare[b] + p.AgeShare[nBands+b]
		agef += s * referralAgePropensity[b]
		tot += s
	}
	seasonal := 1 + 0.08*math.Cos(2*math.Pi*float64(m.mon()-3)/12) // busiest in March, quietest in September
	if m.mon() == 12 {
		seasonal -= 0.1
	}
	return float64(list) * baseReferralRate * p.Referral * agef / tot * seasonal * covidReferrals.at(m)
}

// writeReferrals writes the monthly aggregated files and, if asked, record-level files.
func (g *gen) writeReferrals() error {
	w := g.w
	nMonths := int64(w.End - w.Start + 1)
	for m := w.Start; m <= w.End; m++ {
		if err := g.ctx.Err(); err != nil {
			return err
		}
		var records int64 = -1
		if g.cfg.ReferralRows > 0 {
			k := int64(m - w.Start)
			records = g.cfg.ReferralRows / nMonths
			if k < g.cfg.ReferralRows%nMonths {
				records++
			}
		}
		if err := g.writeReferralMonth(m, records); err != nil {
			return err
		}
	}
	return nil
}

// writeReferralMonth writes one month. records < 0: aggregated only, counts
// drawn from each practice's rate; records >= 0: exactly that many record
// rows, shared among practices by their rates, and the aggregate of them.
func (g *gen) writeReferralMonth(m month, records int64) error {
	w := g.w
	order := w.byCode()
	counts := make([]int64, len(order))
	exp := make([]float64, len(order))
	var totalExp float64
	for j, i := range order {
		exp[j] = w.referralExpected(&w.Practices[i], m)
		totalExp += exp[j]
	}
	r := newRand(w.Seed, stReferrals, uint64(m), 0)
	if records < 0 {
		for j := range order {
			counts[j] = poisson(r, exp[j])
		}
	} else {
		// multinomial by sequential binomials
		lastOpen := -1
		for j := range order {
			if exp[j] > 0 {
				lastOpen = j
			}
		}
		left, expLeft := records, totalExp
		for j := range order {
			if left == 0 || exp[j] <= 0 {
				continue
			}
			if j == lastOpen {
				counts[j] = left // whatever rounding left over, so the total is exact
			} else {
				counts[j] = binomial(r, left, math.Min(1, exp[j]/expLeft))
			}
			left -= counts[j]
			expLeft -= exp[j]
		}
	}
	dir := "referrals/" + m.String() + "/"
	var rec *csvFile
	if records >= 0 {
		var err error
		rec, err = createCSV(g.cfg.Out, dir+"referrals_records_"+m.String()+".csv", optsPlain)
		if err != nil {
			return err
		}
		rec.header(referralsRecHeader)
	}
	ms := m.String()
	days := m.days()
	var seq uint64
	cells := make([]int32, nRefCells)
	var bandCum [2 * nBands]float64
	tk := &ticker{ctx: g.ctx}
	idBuf := make([]byte, 0, 16)
	dateBuf := []byte(ms + "-00")
	err := g.file(dir+"referrals_aggregated_"+ms+".csv", optsPlain, referralsAggHeader, func(f *csvFile) error {
		for j, i := range order {
			n := counts[j]
			if n == 0 {
				continue
			}
			p := &w.Practices[i]
			pr := newRand(w.Seed, stReferrals, uint64(m), uint64(p.Index)+1)
			var s float64
			for c := 0; c < 2*nBands; c++ {
				s += p.AgeShare[c] * referralAgePropensity[c%nBands]
				bandCum[c] = s
			}
			for c := range bandCum {
				bandCum[c] /= s
			}
			clear(cells)
			for k := int64(0); k < n; k++ {
				if err := tk.tick(); err != nil {
					return err
				}
				c := pick(bandCum[:], pr.Float64())
				sex, band := c/nBands, c%nBands
				ag := ageGroup(band)
				tfc := pick(refTab.tfc[ag][sex], pr.Float64())
				pri := pick(refTab.pri[ag], pr.Float64())
				cells[refCell(tfc, pri, band, sex)]++
				if rec != nil {
					seq++
					writeRecord(rec, pr, w.Seed, m, seq, &idBuf, dateBuf, days, p.Code, band, sex, tfc, pri)
				}
			}
			for c, v := range cells {
				if v == 0 {
					continue
				}
				sex := c % 2
				band := (c / 2) % nBands
				pri := (c / 2 / nBands) % 3
				tfc := c / 2 / nBands / 3
				f.str(p.Code).str(ms).str(Specialties[tfc].Code).str(Priorities[pri]).str(AgeBands[band]).str(sexName[sex]).int(int64(v)).end()
			}
		}
		return nil
	})
	if rec != nil {
		if err != nil {
			rec.abort()
			return err
		}
		info, cerr := rec.close()
		if cerr != nil {
			return cerr
		}
		g.sum.Files = append(g.sum.Files, info)
		if g.cfg.Progress != nil {
			g.cfg.Progress(info.Path, info.Rows)
		}
	}
	return err
}

var sexName = [2]string{"FEMALE", "MALE"}

// covidReferrals: referrals fell sharply in the first COVID-19 wave and recovered
// over the summer of 2020 (a special cause for the SPC charts); 1 elsewhere.
var covidReferrals = covidMultipliers{"2020-03": 0.8, "2020-04": 0.3, "2020-05": 0.4, "2020-06": 0.6, "2020-07": 0.75, "2020-08": 0.8, "2020-09": 0.9, "2021-01": 0.85}

type covidMultipliers map[string]float64

func (c covidMultipliers) at(m month) float64 {
	if v, ok := c[m.String()]; ok {
		return v
	}
	return 1
}

const hexDigits = "0123456789abcdef"

// writeRecord writes one record-level referral.
func writeRecord(f *csvFile, r *rand.Rand, seed int64, m month, seq uint64, idBuf *[]byte, dateBuf []byte, days int, code string, band, sex, tfc, pri int) {
	// a bijective mix of (month, sequence) gives unique opaque IDs for a seed
	id := splitmix(uint64(seed)*0x9E3779B97F4A7C15 ^ (uint64(m)<<40 | seq))
	b := (*idBuf)[:0]
	for k := 15; k >= 0; k-- {
		b = append(b, hexDigits[(id>>(uint(k)*4))&0xF])
	}
	*idBuf = b
	day := 1 + r.IntN(days)
	dateBuf[len(dateBuf)-2] = byte('0' + day/10)
	dateBuf[len(dateBuf)-1] = byte('0' + day%10)
	age := band * 5
	if band == nBands-1 {
		age = 95 + int(math.Min(15, math.Floor(r.ExpFloat64()*3)))
	} else {
		age += r.IntN(5)
	}
	f.raw(b).raw(dateBuf).str(code).int(int64(age)).str(sexName[sex]).str(Specialties[tfc].Code).str(Priorities[pri]).end()
}
