package metrics

import "math"

// QOF calculations. Percentages are 0–100.

// QOFAchievement returns numerator/denominator × 100. The published QOF
// DENOMINATOR already excludes personalised care adjustments (PCAs).
func QOFAchievement(numerator, denominator float64) (float64, error) {
	if err := checkCount("numerator", numerator); err != nil {
		return 0, err
	}
	if !(denominator > 0) {
		return 0, invalid("qof denominator %v must be positive", denominator)
	}
	if numerator > denominator {
		return 0, invalid("qof numerator %v exceeds denominator %v", numerator, denominator)
	}
	return numerator / denominator * 100, nil
}

// QOFReceivingIntervention returns numerator/(denominator + PCAs) × 100: the
// share of all eligible patients who received the intervention.
func QOFReceivingIntervention(numerator, denominator, pcas float64) (float64, error) {
	if err := checkCount("pcas", pcas); err != nil {
		return 0, err
	}
	if err := checkCount("numerator", numerator); err != nil {
		return 0, err
	}
	if !(denominator+pcas > 0) || numerator > denominator {
		return 0, invalid("qof numerator %v, denominator %v, pcas %v", numerator, denominator, pcas)
	}
	return numerator / (denominator + pcas) * 100, nil
}

// QOFPCARate returns PCAs/(denominator + PCAs) × 100.
func QOFPCARate(pcas, denominator float64) (float64, error) {
	if err := checkCount("pcas", pcas); err != nil {
		return 0, err
	}
	if err := checkCount("denominator", denominator); err != nil {
		return 0, err
	}
	if denominator+pcas == 0 {
		return math.NaN(), nil
	}
	return pcas / (denominator + pcas) * 100, nil
}

// QOFPoints returns G·(D − E)/(F − E) clamped to [0, G] for achievement D (%),
// lower threshold E (%), upper threshold F (%) and maximum points G.
func QOFPoints(achievement, lower, upper, maxPoints float64) (float64, error) {
	if !(upper > lower) || maxPoints < 0 || math.IsNaN(achievement) {
		return 0, invalid("qof points: achievement %v, thresholds %v-%v, max points %v", achievement, lower, upper, maxPoints)
	}
	p := maxPoints * (achievement - lower) / (upper - lower)
	return math.Min(math.Max(p, 0), maxPoints), nil
}

// Prevalence returns register/listSize (a fraction 0–1; list size is the
// age-specific list where the register has one).
func Prevalence(register, listSize float64) (float64, error) {
	if err := checkCount("register", register); err != nil {
		return 0, err
	}
	if !(listSize > 0) {
		return 0, invalid("prevalence: list size %v must be positive", listSize)
	}
	return register / listSize, nil
}

// QOFPayment returns points × £ per point × (list size / national average
// list size) × (practice prevalence / national prevalence), the clinical
// indicator payment. Pass prevalence ratio 1 (both 1) for non-clinical ones.
func QOFPayment(points, poundsPerPoint, listSize, nationalAvgList, prevalence, nationalPrevalence float64) (float64, error) {
	if !(nationalAvgList > 0) || !(nationalPrevalence > 0) {
		return 0, invalid("qof payment: national list %v, national prevalence %v", nationalAvgList, nationalPrevalence)
	}
	return points * poundsPerPoint * (listSize / nationalAvgList) * (prevalence / nationalPrevalence), nil
}
