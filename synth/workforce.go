package synth

import (
	"math"
	"strconv"
	"strings"
)

// WorkforceColumns are the staff columns after TOTAL_PATIENTS, in file order.
var WorkforceColumns = strings.Split("TOTAL_GP_HC,TOTAL_GP_FTE,TOTAL_GP_EXTGL_HC,TOTAL_GP_EXTGL_FTE,TOTAL_GP_EXTG_HC,TOTAL_GP_EXTG_FTE,TOTAL_GP_EXL_HC,TOTAL_GP_EXL_FTE,TOTAL_GP_SEN_PTNR_HC,TOTAL_GP_SEN_PTNR_FTE,TOTAL_GP_PTNR_PROV_HC,TOTAL_GP_PTNR_PROV_FTE,TOTAL_GP_SAL_BY_PRAC_HC,TOTAL_GP_SAL_BY_PRAC_FTE,TOTAL_GP_SAL_BY_OTH_HC,TOTAL_GP_SAL_BY_OTH_FTE,TOTAL_GP_TRN_GR_HC,TOTAL_GP_TRN_GR_FTE,TOTAL_GP_LOCUM_VAC_HC,TOTAL_GP_LOCUM_ABS_HC,TOTAL_GP_LOCUM_OTH_HC,TOTAL_NURSES_HC,TOTAL_NURSES_FTE,TOTAL_N_PRAC_NURSE_HC,TOTAL_N_PRAC_NURSE_FTE,TOTAL_N_ADV_NURSE_PRAC_HC,TOTAL_N_ADV_NURSE_PRAC_FTE,TOTAL_N_NURSE_SPEC_HC,TOTAL_N_NURSE_SPEC_FTE,TOTAL_N_EXT_ROLE_NURSE_HC,TOTAL_N_EXT_ROLE_NURSE_FTE,TOTAL_N_TRAINEE_NURSE_HC,TOTAL_N_TRAINEE_NURSE_FTE,TOTAL_DPC_HC,TOTAL_DPC_FTE,TOTAL_DPC_PHARMA_HC,TOTAL_DPC_PHARMA_FTE,TOTAL_DPC_HCA_HC,TOTAL_DPC_HCA_FTE,TOTAL_DPC_PHYSIO_HC,TOTAL_DPC_PHYSIO_FTE,TOTAL_ADMIN_HC,TOTAL_ADMIN_FTE,TOTAL_ADMIN_MANAGER_HC,TOTAL_ADMIN_MANAGER_FTE,TOTAL_ADMIN_RECEPT_HC,TOTAL_ADMIN_RECEPT_FTE", ",")

const workforceLead = "PRAC_CODE,PRAC_NAME,SUB_ICB_CODE,SUB_ICB_NAME,ICB_CODE,ICB_NAME,REGION_CODE,REGION_NAME,PCN_CODE,PCN_NAME,TOTAL_PATIENTS,"

// WorkforceHeader is the header of the practice-level detailed workforce file.
var WorkforceHeader = workforceLead + strings.Join(WorkforceColumns, ",")

// WorkforceFileName is the real monthly file name for m.
func WorkforceFileName(year int, monthName string) string {
	return "1 General Practice - " + monthName + " " + strconv.Itoa(year) + " Practice Level - Detailed.csv"
}

// staff is one role: FTE and headcount.
type staff struct{ fte, hc float64 }

func mkStaff(fte, perHead float64) staff {
	if fte <= 0 {
		return staff{}
	}
	return staff{round(fte, 2), math.Max(1, math.Round(fte/perHead))}
}

func (a staff) plus(b staff) staff { return staff{round(a.fte+b.fte, 2), a.hc + b.hc} }

func (g *gen) writeWorkforce(m month) error {
	w := g.w
	rel := "workforce/" + m.String() + "/" + WorkforceFileName(m.year(), m.first().Format("January"))
	return g.file(rel, optsNHS, WorkforceHeader, func(f *csvFile) error {
		vals := make([]string, len(WorkforceColumns))
		for _, i := range w.order() {
			p := &w.Practices[i]
			if !p.OpenIn(m) {
				continue
			}
			list := w.ListSize(p, m)
			w.workforceRow(p, m, list, vals)
			sub := w.SubICBs[p.SubICB]
			icb := w.ICBs[sub.ICB]
			rg := Regions[icb.Region]
			pcnCode, pcnName := "", ""
			if k := p.PCNAt(m); k >= 0 {
				pcnCode, pcnName = w.PCNs[k].Code, w.PCNs[k].Name
			}
			f.str(p.Code).str(upper(p.Name)).str(sub.Code).str(sub.Name).str(icb.Code).str(icb.Name)
			f.str(rg.Code).str(rg.Name).str(pcnCode).str(pcnName).int(list)
			for _, v := range vals {
				f.str(v)
			}
			f.end()
		}
		return nil
	})
}

// workforceRow fills vals (in WorkforceColumns order) for practice p in month m.
// Totals are consistent with their parts; a few cells are "ND" or blank.
func (w *World) workforceRow(p *Practice, m month, list int64, vals []string) {
	r := newRand(w.Seed, stWorkforce, uint64(p.Index), uint64(m))
	// slow drift over time, same for all roles of the practice
	drift := math.Exp(0.05 * hashNorm(w.Seed, stWorkforce, uint64(p.Index), uint64(m/6)))
	pat := float64(list) / 10000
	// national trends: GP FTE per patient slowly falling, direct patient care
	// roles growing fast since the PCN additional roles scheme (2019)
	yrs := float64(m-month(2023*12+8)) / 12
	gp := p.GPFTE10k * pat * drift * math.Exp(-0.01*yrs)
	ptnrShare := clamp(0.5+0.1*r.NormFloat64()-0.05*p.Dz, 0.1, 0.9)
	if p.Contract == "APMS" {
		ptnrShare = 0.05
	}
	trn := gp * clamp(0.12+0.05*r.NormFloat64(), 0, 0.4)
	locumFTE := gp * clamp(0.05+0.03*r.NormFloat64(), 0, 0.2)
	core := gp - trn - locumFTE
	ptnr := core * ptnrShare
	sen := math.Min(ptnr, 0.8)
	if r.IntN(3) > 0 {
		sen = 0
	}
	prov := ptnr - sen
	sal := core - ptnr
	salOth := sal * clamp(0.05+0.05*r.NormFloat64(), 0, 0.3)
	salPrac := sal - salOth

	S := func(fte float64) staff { return mkStaff(fte, 0.72+0.1*r.Float64()) }
	sSen, sProv, sSalP, sSalO, sTrn := S(sen), S(prov), S(salPrac), S(salOth), S(trn)
	locVac, locAbs, locOth := math.Round(locumFTE*1.5*r.Float64()), math.Round(locumFTE*r.Float64()), math.Round(locumFTE*0.5*r.Float64())
	extgl := sSen.plus(sProv).plus(sSalP).plus(sSalO)
	locum := staff{round(locumFTE, 2), locVac + locAbs + locOth}
	extg := extgl.plus(locum)
	exl := extgl.plus(sTrn)
	total := extg.plus(sTrn)

	nur := 2.8 * pat * math.Exp(0.15*r.NormFloat64())
	nPrac, nAdv := S(nur*0.7), S(nur*0.15)
	nSpec, nExt, nTrn := S(nur*0.05), S(nur*0.07), S(nur*0.03)
	nurses := nPrac.plus(nAdv).plus(nSpec).plus(nExt).plus(nTrn)
	dpc := 3.2 * pat * math.Exp(0.2*r.NormFloat64()+0.12*math.Max(yrs, -4.5))
	dPh, dHca, dPhy := S(dpc*0.25), S(dpc*0.45), S(dpc*0.05)
	dOther := S(dpc * 0.25)
	dpcAll := dPh.plus(dHca).plus(dPhy).plus(dOther)
	adm := 11.5 * pat * math.Exp(0.15*r.NormFloat64())
	aMan, aRec := S(adm*0.15), S(adm*0.55)
	aOther := S(adm * 0.3)
	admin := aMan.plus(aRec).plus(aOther)

	f := func(x float64) string { return fmtNum(x, 2) }
	hc := func(x float64) string { return strconv.FormatInt(int64(x), 10) }
	pair := func(i int, s staff) {
		vals[i] = hc(s.hc)
		vals[i+1] = f(s.fte)
	}
	pair(0, total)
	pair(2, extgl)
	pair(4, extg)
	pair(6, exl)
	pair(8, sSen)
	pair(10, sProv)
	pair(12, sSalP)
	pair(14, sSalO)
	pair(16, sTrn)
	vals[18], vals[19], vals[20] = hc(locVac), hc(locAbs), hc(locOth)
	pair(21, nurses)
	pair(23, nPrac)
	pair(25, nAdv)
	pair(27, nSpec)
	pair(29, nExt)
	pair(31, nTrn)
	pair(33, dpcAll)
	pair(35, dPh)
	pair(37, dHca)
	pair(39, dPhy)
	pair(41, admin)
	pair(43, aMan)
	pair(45, aRec)

	// not collected: locum counts ND for ~2% of practice-months, physio blank for ~1%
	if r.IntN(50) == 0 {
		vals[18], vals[19], vals[20] = "ND", "ND", "ND"
	}
	if r.IntN(100) == 0 {
		vals[39], vals[40] = "", ""
	}
}
