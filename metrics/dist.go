package metrics

import (
	"math"
)

// The distribution functions below are small, self-contained routines (no
// external stats module): a normal quantile (Wichura's AS241, ~1e-16), the
// regularised incomplete gamma and beta functions (series and continued
// fractions), and their inverses by safeguarded Newton/bisection. They are
// accurate to about 1e-13 relative over the ranges the methods use.

// NormalQuantile returns Φ⁻¹(p), the standard normal quantile (AS241 PPND16).
func NormalQuantile(p float64) float64 {
	if math.IsNaN(p) || p < 0 || p > 1 {
		return math.NaN()
	}
	if p == 0 {
		return math.Inf(-1)
	}
	if p == 1 {
		return math.Inf(1)
	}
	q := p - 0.5
	if math.Abs(q) <= 0.425 {
		r := 0.180625 - q*q
		return q * (((((((r*2509.0809287301226727+33430.575583588128105)*r+67265.770927008700853)*r+45921.953931549871457)*r+13731.693765509461125)*r+1971.5909503065514427)*r+133.14166789178437745)*r + 3.387132872796366608) /
			(((((((r*5226.495278852545925+28729.085735721942674)*r+39307.89580009271061)*r+21213.794301586595867)*r+5394.1960214247511077)*r+687.1870074920579083)*r+42.313330701600911252)*r + 1)
	}
	r := p
	if q > 0 {
		r = 1 - p
	}
	r = math.Sqrt(-math.Log(r))
	var v float64
	if r <= 5 {
		r -= 1.6
		v = (((((((r*7.7454501427834140764e-4+0.0227238449892691845833)*r+0.24178072517745061177)*r+1.27045825245236838258)*r+3.64784832476320460504)*r+5.7694972214606914055)*r+4.6303378461565452959)*r + 1.42343711074968357734) /
			(((((((r*1.05075007164441684324e-9+5.475938084995344946e-4)*r+0.0151986665636164571966)*r+0.14810397642748007459)*r+0.68976733498510000455)*r+1.6763848301838038494)*r+2.05319162663775882187)*r + 1)
	} else {
		r -= 5
		v = (((((((r*2.01033439929228813265e-7+2.71155556874348757815e-5)*r+0.0012426609473880784386)*r+0.026532189526576123093)*r+0.29656057182850489123)*r+1.7848265399172913358)*r+5.4637849111641143699)*r + 6.6579046435011037772) /
			(((((((r*2.04426310338993978564e-15+1.4215117583164458887e-7)*r+1.8463183175100546818e-5)*r+7.868691311456132591e-4)*r+0.0148753612908506148525)*r+0.13692988092273580531)*r+0.59983220655588793769)*r + 1)
	}
	if q < 0 {
		v = -v
	}
	return v
}

// NormalCDF returns Φ(x).
func NormalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// Z returns the two-sided critical value z(c) = Φ⁻¹(c + (1−c)/2), so
// Z(0.95) = 1.959964 and Z(0.998) = 3.090232.
func Z(confidence float64) float64 { return NormalQuantile(confidence + (1-confidence)/2) }

// GammaP is the regularised lower incomplete gamma function P(a, x).
func GammaP(a, x float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(x) || a < 0 || x < 0:
		return math.NaN()
	case a == 0:
		return 1
	case x == 0:
		return 0
	case math.IsInf(x, 1):
		return 1
	}
	if x < a+1 {
		return gammaSeries(a, x)
	}
	return 1 - gammaCF(a, x)
}

// GammaQ is the regularised upper incomplete gamma function Q(a, x) = 1 − P(a, x).
func GammaQ(a, x float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(x) || a < 0 || x < 0:
		return math.NaN()
	case a == 0:
		return 0
	case x == 0:
		return 1
	case math.IsInf(x, 1):
		return 0
	}
	if x < a+1 {
		return 1 - gammaSeries(a, x)
	}
	return gammaCF(a, x)
}

func gammaLogPrefix(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return a*math.Log(x) - x - lg
}

func gammaSeries(a, x float64) float64 {
	ap, sum, del := a, 1/a, 1/a
	for range 10000 {
		ap++
		del *= x / ap
		sum += del
		if math.Abs(del) < math.Abs(sum)*1e-17 {
			break
		}
	}
	return sum * math.Exp(gammaLogPrefix(a, x))
}

func gammaCF(a, x float64) float64 {
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 10000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-17 {
			break
		}
	}
	return math.Exp(gammaLogPrefix(a, x)) * h
}

// GammaPInv returns x with P(a, x) = p (the quantile of Gamma(a, 1)).
func GammaPInv(a, p float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(p) || a < 0 || p < 0 || p > 1:
		return math.NaN()
	case a == 0 || p == 0:
		return 0
	case p == 1:
		return math.Inf(1)
	}
	// Bracket, then Newton steps kept inside the bracket (bisection otherwise).
	lo, hi := 0.0, math.Max(1, a)
	for GammaP(a, hi) < p {
		lo = hi
		hi *= 2
		if hi > 1e300 {
			return math.Inf(1)
		}
	}
	// Wilson–Hilferty start.
	z := NormalQuantile(p)
	x := a * math.Pow(1-1/(9*a)+z/(3*math.Sqrt(a)), 3)
	if !(x > lo && x < hi) {
		x = (lo + hi) / 2
	}
	lg, _ := math.Lgamma(a)
	for range 200 {
		f := GammaP(a, x) - p
		if f == 0 {
			return x
		}
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		dens := math.Exp((a-1)*math.Log(x) - x - lg)
		nx := x - f/dens
		if !(nx > lo && nx < hi) || dens == 0 || math.IsNaN(nx) {
			nx = (lo + hi) / 2
		}
		if math.Abs(nx-x) <= 1e-15*math.Abs(nx) || hi-lo <= 1e-15*hi {
			return nx
		}
		x = nx
	}
	return x
}

// ChiSquareQuantile returns the p quantile of χ² with df degrees of freedom
// (qchisq(p, df) in R). df = 0 is the point mass at 0.
func ChiSquareQuantile(p, df float64) float64 {
	if df == 0 {
		return 0
	}
	return 2 * GammaPInv(df/2, p)
}

// BetaI is the regularised incomplete beta function I_x(a, b).
func BetaI(a, b, x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0 || x > 1 || a <= 0 || b <= 0:
		return math.NaN()
	case x == 0:
		return 0
	case x == 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 - qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m < 10000; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return h
}

// StudentTCDF returns P(T ≤ t) for Student's t with df degrees of freedom.
func StudentTCDF(t, df float64) float64 {
	x := df / (df + t*t)
	tail := 0.5 * BetaI(df/2, 0.5, x)
	if t > 0 {
		return 1 - tail
	}
	return tail
}

// StudentTQuantile returns the p quantile of Student's t (qt(p, df) in R).
func StudentTQuantile(p, df float64) float64 {
	switch {
	case math.IsNaN(p) || math.IsNaN(df) || df <= 0 || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p == 0.5:
		return 0
	}
	sign := 1.0
	tail := 1 - p
	if p < 0.5 {
		sign, tail = -1, p
	}
	// Solve I_x(df/2, 1/2) = 2·tail for x, then t = √(df(1−x)/x).
	target := 2 * tail
	lo, hi := 0.0, 1.0
	x := 0.5
	la, _ := math.Lgamma(df / 2)
	lb, _ := math.Lgamma(0.5)
	lab, _ := math.Lgamma(df/2 + 0.5)
	for range 300 {
		f := BetaI(df/2, 0.5, x) - target
		if f == 0 {
			break
		}
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		dens := math.Exp(lab - la - lb + (df/2-1)*math.Log(x) - 0.5*math.Log1p(-x))
		nx := x - f/dens
		if !(nx > lo && nx < hi) || math.IsNaN(nx) {
			nx = (lo + hi) / 2
		}
		if math.Abs(nx-x) <= 1e-16*nx || hi-lo <= 1e-16*hi {
			x = nx
			break
		}
		x = nx
	}
	return sign * math.Sqrt(df*(1-x)/x)
}
