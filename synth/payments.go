package synth

import (
	"math"
	"strings"
)

// PaymentsHeader is the header of the real 2022-23 practice-level NHS Payments file (83 columns).
const PaymentsHeader = `NHS England (Region) code,NHS England (Region) Name,Sub ICB Code,Sub ICB NAME,PCN Code,PCN Name,Practice Code,Practice Name,Practice Address,Practice Postcode,Practice Open Date,Practice Close Date,Contract Type,Dispensing Practice,Practice type,Practice Rurality,Atypical characteristics,Average Number of Registered Patients,Average Number of Weighted Patients,Average payments per registered patient,Average payments per weighted patient,Global Sum,MPIG Correction factor,Balance of PMS Expenditure,Total QOF Payments,Childhood Vaccination and Immunisation Scheme,GP Extended Hours Access,Influenza and Pneumococcal Immunisations,Learning Disabilities,Meningitis,Minor Surgery,Out Of Area in Hours Urgent Care,Pertussis,Rotavirus and Shingles Immunisation,Services for Violent Patients,Medical Assessment Reviews,Weight Management Service,Local Incentive Schemes,Premises Payments,Seniority,Doctors Retainer Scheme Payments,Total Locum Allowances,Appraisal - Appraiser Costs in Respect of Locums,Prolonged Study Leave,PCO Admin Other,Information Management and Technology,"Non DES Item Pneumococcal Vaccine, Childhood Immunisation Main Programme",General Practice Transformation,PCN Participation,Prescribing Fee Payments,Dispensing Fee Payments,Reimbursement of Drugs,winter Access Fund,Other Payments,Total NHS Payments to General Practice,"Deductions for Pensions, Levies and Prescription Charge Income",Total NHS Payments to General Practice Minus Deductions,"Total NHS Payments to General Practice including covid vaccination, covid support and long covid payments","Total NHS Payments including PCN Workforce, Leadership and Support",Total NHS Payments to General Practice including Covid and PCN payments,Total NHS Payments to General Practice including Covid and PCN payments minus deductions,PCN Leadership,PCN Support,PCN Extended Hours Access,PCN Workforce,PCN Investment and impact Fund,PCN Care Home Premium,PCN Enhanced Access,Covid Immunisation,Covid Support and Expansion,Long Covid,"Average payments per registered patient including PCN Workforce, Leadership and Support","Average payments per weighted patient including PCN Workforce, Leadership and Support","Average payments per registered patient including covid vaccination, covid support and long covid payments","Average payments per weighted patient including covid vaccination, covid support and long covid payments"`

// PaymentsFileName is the real file name for the financial year starting in April of year.
func PaymentsFileName(year int) string {
	return "nhspaymentsgp-" + two(year%100) + "-" + two((year+1)%100) + "-prac-csv.csv"
}

func two(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// Number of payment lines (Global Sum ... Other Payments) that add up to the total.
const nPayLines = 33

// payLine: mean £ per registered patient when paid, and the chance it is paid.
type payLine struct{ perPatient, chance float64 }

var payLines = [nPayLines]payLine{
	{0, 1}, {0, 0}, {0, 0}, {0, 1}, // global sum, MPIG, PMS balance, QOF: modelled
	{0.12, 0.95}, {3.4, 0.045}, {2.1, 0.97}, {0.58, 0.94}, {0.28, 0.96}, {0.9, 0.71}, {0.5, 0.02},
	{0.045, 0.93}, {0.27, 0.96}, {4, 0.016}, {0.2, 0.3}, {0.12, 0.87}, {9.2, 0.98}, {14.8, 0.94},
	{1, 0.004}, {1.7, 0.13}, {3, 0.36}, {0.5, 0.0005}, {0, 0}, {1.8, 0.83}, {0.6, 0.1}, {0.28, 0.96},
	{2.8, 0.35}, {0, 0}, {0.05, 0.92}, {0, 0}, {3, 0.95}, {1.7, 0.45}, {7.7, 0.87},
}

// carrHill: relative workload by age band (Global Sum weighting, simplified).
var carrHill = [nBands]float64{1.9, 0.8, 0.7, 0.8, 0.85, 0.9, 0.9, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.35, 1.55, 1.75, 2.0, 2.2, 2.3, 2.3}

var carrHillNational = func() float64 {
	var a, b float64
	for i := 0; i < nBands; i++ {
		n := baseAgeFemale[i] + baseAgeMale[i]
		a += n * carrHill[i]
		b += n
	}
	return a / b
}()

// paymentsRow is one practice-year of NHS Payments, with every derived column.
type paymentsRow struct {
	registered, weighted float64
	lines                [nPayLines]float64
	pcn                  [7]float64
	covid                [3]float64
	deductions           float64
	partYear             bool
}

func (r *paymentsRow) total() float64 {
	var t float64
	for _, x := range r.lines {
		t += round(x, 2)
	}
	return round(t, 2)
}

func sum(xs []float64) float64 {
	var t float64
	for _, x := range xs {
		t += round(x, 2)
	}
	return round(t, 2)
}

// inPayments: practices open in any month of the year.
func (w *World) inPayments(p *Practice, fy month) bool {
	for m := fy; m < fy+12; m++ {
		if p.OpenIn(m) {
			return true
		}
	}
	return false
}

// paymentsFor models a practice-year; pcnPatients is the practice's PCN list
// when the practice is its PCN's nominated payee, else 0.
func (w *World) paymentsFor(p *Practice, fy month, avgList float64, pcnPatients float64) paymentsRow {
	var row paymentsRow
	r := newRand(w.Seed, stPayments, uint64(p.Index), uint64(fy))
	var regSum, wSum float64
	var quarters, open int
	var cells []int64
	for q := 0; q < 4; q++ {
		m := fy + month(q*3)
		quarters++
		if !p.OpenIn(m) {
			row.partYear = true
			continue
		}
		open++
		cells = w.cellsAt(p, m, cells)
		var wt float64
		for b := 0; b < nBands; b++ {
			wt += float64(cells[b]+cells[nBands+b]) * carrHill[b]
		}
		wt /= carrHillNational
		if p.Rural {
			wt *= 1.06
		}
		wt *= 1 + 0.02*p.Dz // a small deprivation uplift: the inverse care law is mostly about its smallness
		regSum += float64(w.listAt(p, m))
		wSum += wt
	}
	if open < quarters && open > 0 {
		row.partYear = true
	}
	if open == 0 {
		// open only between quarter dates: a part year with a small list
		row.partYear = true
		regSum, wSum, open = float64(w.listAt(p, fy)), float64(w.listAt(p, fy)), 1
	}
	row.registered = round(regSum/float64(open), 2)
	row.weighted = round(wSum/float64(open), 2)
	frac := float64(open) / 4
	y := float64(fy.year() - 2022)
	gsRate := 102.28 * math.Pow(1.035, y)
	gs := row.weighted * gsRate * frac * math.Exp(0.03*r.NormFloat64())
	if p.Contract == "PMS" {
		row.lines[0] = round(gs*0.72, 2)
		row.lines[2] = round(gs*0.28*math.Exp(0.2*r.NormFloat64()), 2)
	} else {
		row.lines[0] = round(gs, 2)
	}
	if r.IntN(4000) == 0 {
		row.lines[1] = round(row.registered*r.Float64()*5, 2)
	}
	qof := w.qofFor(p, fy)
	pointValue := 207.56 * math.Pow(1.03, y)
	row.lines[3] = round(qof.points*pointValue*float64(qof.lists["TOTAL"])/avgList*frac, 2)
	for i := 4; i < nPayLines; i++ {
		pl := payLines[i]
		if pl.chance > 0 && r.Float64() < pl.chance {
			// capitation-like: follows the weighted list, so pay per weighted patient is flat
			row.lines[i] = round(row.weighted*pl.perPatient*frac*math.Exp(0.4*r.NormFloat64()-0.08), 2)
		}
	}
	if p.PCNAt(fy+9) < 0 {
		row.lines[27] = 0 // PCN participation needs a PCN
	} else {
		row.lines[27] = round(row.registered*1.76*frac*math.Exp(0.05*r.NormFloat64()), 2)
	}
	if p.Dispensing {
		row.lines[29] = round(row.registered*25*frac*math.Exp(0.3*r.NormFloat64()), 2)
		row.lines[30] = round(row.registered*60*frac*math.Exp(0.3*r.NormFloat64()), 2)
	}
	if fy.year() < 2021 || fy.year() > 2022 {
		row.lines[31] = 0 // the winter access fund ran in 2021-22 and 2022-23 only
	}
	if pcnPatients > 0 && fy.year() >= 2019 {
		per := [7]float64{0.7, 0.67, 0.65, 9.7, 1.2, 0.5, 0}
		if fy.year() >= 2022 {
			per[6] = 3.7 // enhanced access from October 2022
		}
		if fy.year() < 2020 {
			per[3], per[4], per[5] = 3, 0, 0
		}
		for i, pp := range per {
			if pp > 0 {
				row.pcn[i] = round(pcnPatients*pp*math.Exp(0.2*r.NormFloat64()), 2)
			}
		}
	}
	if fy.year() >= 2020 && fy.year() <= 2022 {
		if r.Float64() < 0.3 {
			row.covid[0] = round(row.registered*6*math.Exp(0.5*r.NormFloat64()), 2)
		}
		if fy.year() == 2020 && r.Float64() < 0.8 {
			row.covid[1] = round(row.registered*2*math.Exp(0.3*r.NormFloat64()), 2)
		}
		if fy.year() >= 2021 && r.Float64() < 0.68 {
			row.covid[2] = round(row.registered*0.2*math.Exp(0.3*r.NormFloat64()), 2)
		}
	}
	row.deductions = -round(row.total()*0.085*math.Exp(0.15*r.NormFloat64()), 2)
	return row
}

func (g *gen) writePayments(fy month) error {
	w := g.w
	// pre-pass: national average QOF list and each PCN's patients
	var listSum float64
	var listN int
	pcnPatients := make([]float64, len(w.PCNs))
	payee := make([]int, len(w.PCNs))
	for i := range payee {
		payee[i] = -1
	}
	mid := fy + 9
	for i := range w.Practices {
		p := &w.Practices[i]
		if w.inQOF(p, fy) {
			listSum += float64(w.listAt(p, mid))
			listN++
		}
		if k := p.PCNAt(mid); k >= 0 && p.OpenIn(mid) {
			pcnPatients[k] += float64(w.listAt(p, mid))
			if payee[k] < 0 {
				payee[k] = i
			}
		}
	}
	avgList := listSum / math.Max(1, float64(listN))
	tk := &ticker{ctx: g.ctx}
	return g.file("payments/"+PaymentsFileName(fy.year()), optsBOM, PaymentsHeader, func(f *csvFile) error {
		for _, i := range w.order() {
			p := &w.Practices[i]
			if !w.inPayments(p, fy) {
				continue
			}
			if err := tk.tick(); err != nil {
				return err
			}
			var pcnPat float64
			k := p.PCNAt(mid)
			if k >= 0 && payee[k] == i {
				pcnPat = pcnPatients[k]
			}
			row := w.paymentsFor(p, fy, avgList, pcnPat)
			sub := w.SubICBs[p.SubICB]
			rg := Regions[w.ICBs[sub.ICB].Region]
			pcnCode, pcnName := "Unknown or no PCN", "Unknown or no PCN"
			if k >= 0 {
				pcnCode, pcnName = w.PCNs[k].Code, upper(w.PCNs[k].Name)
			}
			closeDate := ""
			if p.Close != 0 {
				closeDate = p.Close.last().Format("02/01/2006")
			}
			disp := "No"
			if p.Dispensing {
				disp = "Yes"
			}
			rural := "Urban"
			if p.Rural {
				rural = "Rural"
			}
			atyp := ""
			if row.partYear {
				atyp = "| Part year of data |"
			}
			addr := strings.Join([]string{upper(p.Addr[0]), upper(p.Addr[1]), "", upper(p.Addr[2])}, " ")
			f.str(rg.Code).str(rg.PaymentsName).str(sub.Code).str(upper(sub.Name)).str(pcnCode).str(pcnName)
			f.str(p.Code).str(upper(p.Name)).str(addr).str(p.Postcode).str(p.OpenDate.Format("02/01/2006")).str(closeDate)
			f.str(p.Contract).str(disp).str("GP practice").str(rural).str(atyp)

			// a few rows carry thousands separators, as some published years do
			sepRows := splitmix(uint64(w.Seed)^uint64(p.Index)<<8^uint64(fy))%20 == 0
			money := func(x float64) {
				if sepRows && math.Abs(x) >= 1000 {
					f.quoted(fmtThousands(x))
				} else {
					f.str(fmtNum(x, 2))
				}
			}
			total := row.total()
			pcnSum := sum(row.pcn[:])
			covidSum := sum(row.covid[:])
			per := func(x, n float64) float64 {
				if n <= 0 {
					return 0
				}
				return x / n
			}
			money(row.registered)
			money(row.weighted)
			money(per(total, row.registered))
			money(per(total, row.weighted))
			for _, x := range row.lines {
				money(x)
			}
			money(total)
			money(row.deductions)
			money(total + row.deductions)
			money(total + covidSum)
			money(total + pcnSum)
			money(total + covidSum + pcnSum)
			money(total + covidSum + pcnSum + row.deductions)
			for _, x := range row.pcn {
				money(x)
			}
			for _, x := range row.covid {
				money(x)
			}
			money(per(total+pcnSum, row.registered))
			money(per(total+pcnSum, row.weighted))
			money(per(total+covidSum, row.registered))
			money(per(total+covidSum, row.weighted))
			f.end()
		}
		return nil
	})
}
