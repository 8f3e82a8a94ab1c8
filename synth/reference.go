package synth

import (
	"sort"
	"strconv"
)

// order returns practice indexes sorted by sub-ICB code then practice code,
// the order the NHS files list practices in.
func (w *World) order() []int {
	if w.subOrder != nil {
		return w.subOrder
	}
	idx := make([]int, len(w.Practices))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		pa, pb := &w.Practices[idx[a]], &w.Practices[idx[b]]
		sa, sb := w.SubICBs[pa.SubICB].Code, w.SubICBs[pb.SubICB].Code
		if sa != sb {
			return sa < sb
		}
		return pa.Code < pb.Code
	})
	w.subOrder = idx
	return idx
}

func ymd(t interface{ Format(string) string }) string { return t.Format("20060102") }

// writeODS writes ods/epraccur.csv: no header, 27 quoted columns, CRLF.
func (g *gen) writeODS() error {
	w := g.w
	type row struct {
		p       *Practice
		setting string
	}
	var rows []row
	for i := range w.Practices {
		rows = append(rows, row{&w.Practices[i], "4"})
	}
	for i := range w.NonPractices {
		rows = append(rows, row{&w.NonPractices[i], w.NonSetting[i]})
	}
	sort.Slice(rows, func(a, b int) bool { return rows[a].p.Code < rows[b].p.Code })
	return g.file("ods/epraccur.csv", optsNHS, "", func(f *csvFile) error {
		for _, r := range rows {
			p := r.p
			sub := w.SubICBs[p.SubICB]
			icb := w.ICBs[sub.ICB]
			closeDate, left := "", ""
			status := "A"
			if p.Close != 0 {
				closeDate = ymd(p.Close.last())
				left = closeDate
				status = "C"
			}
			join := "20130401"
			if p.OpenDate.Year() >= 2013 {
				join = ymd(p.OpenDate)
			}
			f.quoted(p.Code).quoted(upper(p.Name)).quoted(Regions[icb.Region].Code).quoted(icb.Code)
			f.quoted(upper(p.Addr[0])).quoted(upper(p.Addr[1])).quoted(upper(p.Addr[2])).quoted("").quoted("")
			f.quoted(p.Postcode).quoted(ymd(p.OpenDate)).quoted(closeDate).quoted(status).quoted("B")
			f.quoted(sub.Code).quoted(join).quoted(left).quoted(p.Phone)
			f.quoted("").quoted("").quoted("").quoted("0").quoted("").quoted(sub.Code).quoted("").quoted(r.setting).quoted("")
			f.end()
		}
		return nil
	})
}

const imdFile1Header = "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,Index of Multiple Deprivation (IMD) Decile"

const imdFile5Header = `LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Score,Income Score (rate),Employment Score (rate),"Education, Skills and Training Score",Health Deprivation and Disability Score,Crime Score,Barriers to Housing and Services Score,Living Environment Score`

// writeDeprivation writes IoD2019 File 1 (ranks, deciles) and File 5 (scores).
func (g *gen) writeDeprivation() error {
	w := g.w
	err := g.file("deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv", optsBOM, imdFile1Header, func(f *csvFile) error {
		for _, l := range w.LSOAs {
			lad := w.LADs[l.LAD]
			f.str(l.Code).str(l.Name).str(lad.Code).str(lad.Name)
			if l.Rank >= 1000 {
				f.quoted(fmtThousands(float64(l.Rank)))
			} else {
				f.int(int64(l.Rank))
			}
			f.int(int64(l.Decile)).end()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return g.file("deprivation/File_5_-_IoD2019_Scores.csv", optsBOM, imdFile5Header, func(f *csvFile) error {
		for _, l := range w.LSOAs {
			lad := w.LADs[l.LAD]
			f.str(l.Code).str(l.Name).str(lad.Code).str(lad.Name).str(strconv.FormatFloat(l.Score, 'f', 3, 64))
			for _, d := range l.Domains {
				f.str(strconv.FormatFloat(d, 'f', 3, 64))
			}
			f.end()
		}
		return nil
	})
}

const (
	regAllHeader   = "PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS"
	regQuinHeader  = "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS"
	regLSOAHeader  = "PUBLICATION,EXTRACT_DATE,PRACTICE_NAME,PRACTICE_CODE,POSTCODE,SEX,LSOA_CODE,NUMBER_OF_PATIENTS"
	regMapHeader   = "PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_NAME,ONS_SUB_ICB_LOCATION_CODE,ICB_CODE,ICB_NAME,ONS_ICB_CODE,COMM_REGION_CODE,COMM_REGION_NAME,ONS_COMM_REGION_CODE,SUPPLIER_NAME"
	regPublication = "GP_PRAC_PAT_LIST"
)

// writeRegistrations writes the month's registration files (LSOA quarterly).
func (g *gen) writeRegistrations(m month) error {
	w := g.w
	dir := "registrations/" + m.String() + "/"
	ed := m.extractDate()
	order := w.order()
	if err := g.file(dir+"gp-reg-pat-prac-all.csv", optsNHS, regAllHeader, func(f *csvFile) error {
		for _, i := range order {
			p := &w.Practices[i]
			if !p.OpenIn(m) {
				continue
			}
			sub := w.SubICBs[p.SubICB]
			f.str(regPublication).str(ed).str("GP").str(sub.Code).str(sub.ONS).str(p.Code).str(p.Postcode).str("ALL").str("ALL").int(w.ListSize(p, m)).end()
		}
		return nil
	}); err != nil {
		return err
	}
	var cells []int64
	if err := g.file(dir+"gp-reg-pat-prac-quin-age.csv", optsNHS, regQuinHeader, func(f *csvFile) error {
		for _, i := range order {
			p := &w.Practices[i]
			if !p.OpenIn(m) {
				continue
			}
			sub := w.SubICBs[p.SubICB]
			cells = w.AgeSex(p, m, cells)
			row := func(sex, band string, n int64) {
				f.str(regPublication).str(ed).str("GP").str(p.Code).str(sub.ONS).str(p.Postcode).str(sex).str(band).int(n).end()
			}
			row("ALL", "ALL", w.ListSize(p, m))
			for s, sex := range []string{"FEMALE", "MALE"} {
				var tot int64
				for b := 0; b < nBands; b++ {
					n := cells[s*nBands+b]
					tot += n
					row(sex, AgeBands[b], n)
				}
				row(sex, "ALL", tot)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if m.mon()%3 == 1 {
		var wts []float64
		var counts []int64
		if err := g.file(dir+"gp-reg-pat-prac-lsoa-all.csv", optsNHS, regLSOAHeader, func(f *csvFile) error {
			for _, i := range order {
				p := &w.Practices[i]
				if !p.OpenIn(m) {
					continue
				}
				wts = wts[:0]
				for j, wt := range p.LSOAWeight {
					wts = append(wts, wt*(1+0.05*hashNorm(w.Seed, stMonthNoise, uint64(p.Index)<<20|uint64(j), uint64(m))))
				}
				wts = append(wts, 0.003) // unknown LSOA (NO2011)
				counts = largestRemainder(w.ListSize(p, m), wts, counts)
				name := upper(p.Name)
				for j, n := range counts {
					if n == 0 {
						continue
					}
					code := "NO2011"
					if j < len(p.LSOAs) {
						code = w.LSOAs[p.LSOAs[j]].Code
					}
					f.str(regPublication).str(ed).str(name).str(p.Code).str(p.Postcode).str("ALL").str(code).int(n).end()
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return g.file(dir+"gp-reg-pat-prac-map.csv", optsNHS, regMapHeader, func(f *csvFile) error {
		for _, i := range order {
			p := &w.Practices[i]
			if !p.OpenIn(m) {
				continue
			}
			sub := w.SubICBs[p.SubICB]
			icb := w.ICBs[sub.ICB]
			rg := Regions[icb.Region]
			pcnCode, pcnName := "", ""
			if k := p.PCNAt(m); k >= 0 {
				pcnCode, pcnName = w.PCNs[k].Code, upper(w.PCNs[k].Name)
			}
			f.str(regPublication).str(ed).str(p.Code).str(upper(p.Name)).str(p.Postcode).str(pcnCode).str(pcnName)
			f.str(sub.Code).str(upper(sub.Name)).str(sub.ONS).str(icb.Code).str(upper(icb.Name)).str(icb.ONS)
			f.str(rg.Code).str(upper(rg.Name)).str(rg.ONS).str(p.Supplier).end()
		}
		return nil
	})
}
