package publish

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/gplens/gplens/data"
)

// needModel is the need model and the number of similar practices the
// warehouse applied (ref.investment_settings, from
// data/investment_settings.csv), so the packs describe the parameters that
// made their numbers, not the defaults.
type needModel struct {
	PeerK                          int
	Gradient, GradientLo, GradHigh float64
}

// loadNeedModel reads ref.investment_settings from the warehouse; a
// warehouse without it (built before the table existed, or a test fixture)
// is described by data/investment_settings.csv (the workspace override or
// the embedded file).
func loadNeedModel(ctx context.Context, db *sql.DB, workspace string) (needModel, error) {
	vals := map[string]string{}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ref' AND table_name = 'investment_settings'`).Scan(&n); err != nil {
		return needModel{}, fmt.Errorf("need model: %w", err)
	}
	if n > 0 {
		rows, err := db.QueryContext(ctx, `SELECT setting, CAST(value AS VARCHAR) FROM ref.investment_settings`)
		if err != nil {
			return needModel{}, fmt.Errorf("need model: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return needModel{}, fmt.Errorf("need model: %w", err)
			}
			vals[k] = v
		}
		if err := rows.Err(); err != nil {
			return needModel{}, fmt.Errorf("need model: %w", err)
		}
	} else {
		t, err := data.ReadCSV(workspace, "investment_settings.csv")
		if err != nil {
			return needModel{}, fmt.Errorf("need model: %w", err)
		}
		for _, r := range t.Rows {
			vals[r["setting"]] = r["value"]
		}
	}
	var m needModel
	num := func(key string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(vals[key]), 64)
		if err != nil {
			return 0, fmt.Errorf("need model: setting %s = %q: not a number", key, vals[key])
		}
		return v, nil
	}
	var err error
	var k float64
	if k, err = num("peer_k"); err != nil {
		return m, err
	}
	m.PeerK = int(k)
	if m.Gradient, err = num("need_gradient"); err != nil {
		return m, err
	}
	if m.GradientLo, err = num("need_gradient_low"); err != nil {
		return m, err
	}
	if m.GradHigh, err = num("need_gradient_high"); err != nil {
		return m, err
	}
	return m, nil
}

// gradientWords is the central gradient in words: "a third more" for 0.33,
// else a percentage.
func (m needModel) gradientWords() string {
	if m.Gradient > 0.325 && m.Gradient < 0.335 {
		return "a third more"
	}
	return fnum(m.Gradient*100) + "% more"
}

// rangeWords is the fair-share interval's gradients in words.
func (m needModel) rangeWords() string {
	word := func(g float64) string {
		switch {
		case g == 0:
			return "none"
		case g == 2*m.Gradient:
			return "double"
		}
		return fnum(g*100) + "%"
	}
	return "from " + word(m.GradientLo) + " to " + word(m.GradHigh)
}

func fnum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// NeedIntro is the page's first paragraph on need-weighted patients.
func (m needModel) NeedIntro() string {
	return "Need-weighted patients are each practice's Carr-Hill weighted list adjusted for deprivation: the most deprived fifth of practices nationally are taken to need " +
		m.gradientWords() + " per weighted patient than the least deprived, linearly in between (Boomla, Hull and Robson, BMJ 2014). Equal funding for equal need would give every bar the same height."
}

// GapCaption is the fair-share gap chart's whisker text.
func (m needModel) GapCaption() string {
	return "whiskers: the gap as the deprivation adjustment runs " + m.rangeWords() + "."
}

// PeersText names the number of similar practices.
func (m needModel) PeersText() string {
	return "each practice's " + strconv.Itoa(m.PeerK) + " most similar practices in England (after NHS RightCare's similar 10)"
}

// methodLines are the workbook's method notes on similar practices and the
// need model.
func (m needModel) methodLines() []string {
	return []string{
		"Similar practices (peer_mean, opportunity, and the Investment and need part): " + m.PeersText() + " by a standardised distance over deprivation, list size, age structure, rurality, dispensing status and weighted/registered ratio; peer_mean is their pooled value, opportunity what the practice would gain at that rate, in the direction of improvement.",
		"Investment and need: need-weighted patients are the Carr-Hill weighted list x (1 + " + fnum(m.Gradient) + " x (5 - IMD quintile) / 4) (Boomla et al., BMJ 2014;349:g7648); a practice's fair-share gap is its payments (or FTE) minus the area's total shared by need among the area's compared practices, with an interval from a deprivation gradient of " +
			fnum(m.GradientLo) + " to " + fnum(m.GradHigh) + ". Practices not open all year or with implausible lists (data/plausibility.csv) count in totals but are not compared.",
	}
}
