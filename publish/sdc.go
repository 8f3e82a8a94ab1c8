package publish

// SuppressionCounts counts withheld cells (rows whose count and everything
// computed from it are hidden), as the release schema's flags and
// suppression_reason mark them: publish applies no disclosure control of
// its own, it follows the warehouse's (sql/disclosure, sql/release).
type SuppressionCounts struct {
	// Primary: counts 1..MinCount-1 of non-public indicators.
	Primary int `json:"primary"`
	// Secondary: further cells hidden so a primary one cannot be recovered
	// by subtracting the others from a published total.
	Secondary int `json:"secondary"`
	// Upstream: rows the models marked suppressed without a reason.
	Upstream int `json:"upstream"`
}

// add counts one withheld row by its reason; statistics withheld because
// an input is ("decile withheld") are not cells and are not counted.
func (c *SuppressionCounts) add(reason string) {
	switch reason {
	case "primary":
		c.Primary++
	case "secondary":
		c.Secondary++
	case "upstream":
		c.Upstream++
	}
}

func (c *SuppressionCounts) plus(o SuppressionCounts) {
	c.Primary += o.Primary
	c.Secondary += o.Secondary
	c.Upstream += o.Upstream
}
