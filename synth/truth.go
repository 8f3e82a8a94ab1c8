package synth

import (
	"strconv"
)

// writeTruth writes _truth/: the planted outliers, each practice's modelled
// characteristics and the QOF thresholds, kept apart from the extracts so
// tests can check what the pipeline finds.
func (g *gen) writeTruth() error {
	w := g.w
	if err := g.file("_truth/outliers.csv", optsPlain, "PRACTICE_CODE,KIND,FACTOR", func(f *csvFile) error {
		for _, o := range g.sum.Outliers {
			f.str(o.Practice).str(o.Kind).str(fmtNum(o.Factor, 3)).end()
		}
		return nil
	}); err != nil {
		return err
	}
	if err := g.file("_truth/practices.csv", optsPlain,
		"PRACTICE_CODE,REGION_CODE,ICB_CODE,SUB_ICB_CODE,PCN_CODE,IMD_SCORE,LIST_SIZE_END,OPEN_MONTH,CLOSE_MONTH,PCN_MOVE_MONTH,PCN_CODE_AFTER,QUALITY_SHIFT,REFERRAL_MULTIPLIER,GP_FTE_PER_10K,OUTLIER",
		func(f *csvFile) error {
			for _, i := range w.byCode() {
				p := &w.Practices[i]
				sub := w.SubICBs[p.SubICB]
				icb := w.ICBs[sub.ICB]
				pcn, after, move := "", "", ""
				if p.PCN >= 0 {
					pcn = w.PCNs[p.PCN].Code
				}
				if p.PCNMove != 0 {
					move, after = p.PCNMove.String(), w.PCNs[p.PCNAfter].Code
				}
				open, closeM := "", ""
				if p.Open >= w.Start {
					open = p.Open.String()
				}
				if p.Close != 0 {
					closeM = p.Close.String()
				}
				f.str(p.Code).str(Regions[icb.Region].Code).str(icb.Code).str(sub.Code).str(pcn)
				f.str(strconv.FormatFloat(p.IMD, 'f', 3, 64)).int(w.listAt(p, w.End)).str(open).str(closeM).str(move).str(after)
				f.str(fmtNum(p.Quality, 4)).str(fmtNum(p.Referral, 4)).str(fmtNum(p.GPFTE10k, 3)).str(p.Outlier).end()
			}
			return nil
		}); err != nil {
		return err
	}
	return g.file("_truth/qof_thresholds.csv", optsPlain, "INDICATOR_CODE,KIND,POINTS,LOWER_THRESHOLD,UPPER_THRESHOLD,BASE_RATE", func(f *csvFile) error {
		for _, ind := range Indicators {
			f.str(ind.Code).str(ind.Kind).str(fmtNum(ind.Points, 2)).str(fmtNum(ind.Lower, 2)).str(fmtNum(ind.Upper, 2)).str(fmtNum(ind.BaseRate, 3)).end()
		}
		return nil
	})
}
