package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// ICB is an integrated care board.
type ICB struct {
	Code, ONS, Name, Short string
	Region                 int
}

// SubICB is a sub-ICB location (the former CCG).
type SubICB struct {
	Code, ONS, Name string
	ICB             int
	LSOALo, LSOAHi  int // its LSOAs are [LSOALo, LSOAHi)
	Place           string
}

// PCN is a primary care network.
type PCN struct {
	Code, Name string
	SubICB     int
}

// LSOA is a lower-layer super output area with its IMD 2019 score.
type LSOA struct {
	Code, Name string
	LAD        int
	SubICB     int
	Score      float64
	Rank       int // 1 = most deprived
	Decile     int // 1 = most deprived 10%
	Domains    [7]float64
}

// LAD is a local authority district.
type LAD struct {
	Code, Name string
}

// Practice is one synthetic GP practice with its fixed characteristics.
type Practice struct {
	Index      int
	Code, Name string
	Addr       [4]string
	Postcode   string
	Phone      string
	SubICB     int
	PCN        int   // -1: not in a PCN
	PCNMove    month // month from which PCNAfter applies (0: never)
	PCNAfter   int
	OpenDate   time.Time
	Open       month // first month with patients
	Close      month // last month open (0: still open)
	Status     string
	BaseList   float64 // list size at the end month
	Growth     float64 // yearly log growth of the list
	LSOAs      []int
	LSOAWeight []float64
	IMD        float64 // LSOA-weighted IMD score (from LSOAWeight, excluding unknowns)
	Dz         float64 // (IMD - England mean) / 12
	AgeShare   [2 * nBands]float64
	Quality    float64 // QOF achievement shift
	Referral   float64 // referral rate multiplier
	GPFTE10k   float64 // GP FTE per 10,000 patients
	Outlier    string
	OutFactor  float64
	Contract   string
	Dispensing bool
	Rural      bool
	Supplier   string
	Specialist bool // register larger than list on some groups (real oddity)
}

// World is the synthetic country: the hierarchy, LSOAs and practices.
type World struct {
	Seed      int64
	End       month
	Start     month
	ICBs      []ICB
	SubICBs   []SubICB
	PCNs      []PCN
	LADs      []LAD
	LSOAs     []LSOA
	Practices []Practice
	// NonPractices are epraccur rows that are not GP practices (prescribing setting != 4).
	NonPractices []Practice
	NonSetting   []string

	codeOrder, subOrder []int // cached practice orders
}

// RegionOf returns the region index of a sub-ICB.
func (w *World) RegionOf(sub int) int { return w.ICBs[w.SubICBs[sub].ICB].Region }

// PCNAt is the practice's PCN in month m (-1: none).
func (p *Practice) PCNAt(m month) int {
	if p.PCNMove != 0 && m >= p.PCNMove {
		return p.PCNAfter
	}
	return p.PCN
}

// OpenIn reports whether the practice has patients in month m.
func (p *Practice) OpenIn(m month) bool {
	return m >= p.Open && (p.Close == 0 || m <= p.Close)
}

// counts at a scale: at least `min` and the England count scaled by practices.
func scaled(england, practices, min, max int) int {
	n := int(math.Round(float64(england) * float64(practices) / englandPractices))
	if n < min {
		n = min
	}
	if n > max {
		n = max
	}
	return n
}

// allocate splits total into len(w) parts proportional to w, each at least min.
func allocate(total int, w []float64, min int) []int {
	out := make([]int, len(w))
	rest := total - min*len(w)
	if rest < 0 {
		rest = 0
	}
	parts := largestRemainder(int64(rest), w, nil)
	for i := range out {
		out[i] = min + int(parts[i])
	}
	return out
}

var placeA = []string{"Ash", "Brook", "Castle", "Dun", "Elm", "Fair", "Glen", "Hart", "Iver", "King", "Lang", "Mill",
	"North", "Oak", "Pen", "Queens", "Red", "Stan", "Thorn", "Upton", "Wal", "West", "Whit", "Bright", "Cold", "Market",
	"Long", "Ayles", "Brad", "Chel", "Dor", "Hol", "Kes", "Mar", "Nor", "Roch", "Sal", "Tam", "Wick", "Ely"}
var placeB = []string{"ford", "field", "ton", "bury", "ham", "ley", "mouth", "wick", "stead", "worth", "by", "combe",
	"bridge", "dale", "minster", "port", "well", "more"}
var surnames = []string{"Patel", "Smith", "Jones", "Khan", "Williams", "Brown", "Taylor", "Ahmed", "Wilson", "Evans",
	"Thomas", "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Lewis", "Clarke", "Shah", "Ali", "Martin",
	"Cooper", "Morris", "Ward", "Turner", "Hussain", "Kaur", "Singh", "Baker"}
var practiceKinds = []string{"Medical Centre", "Surgery", "Health Centre", "Medical Practice", "Family Practice", "Group Practice"}
var streets = []string{"High Street", "Church Road", "Station Road", "Park Lane", "Victoria Road", "Mill Lane",
	"London Road", "Queens Road", "Green Lane", "The Parade", "Market Place", "School Lane"}

// place gives a deterministic, mostly distinct place name for index i.
func place(i int) string {
	a := placeA[i%len(placeA)]
	b := placeB[(i/len(placeA)+i*7)%len(placeB)]
	name := a + b
	if k := i / (len(placeA) * len(placeB)); k > 0 {
		name = []string{"North ", "South ", "East ", "Great ", "Little ", "Upper ", "Lower "}[(k-1)%7] + name
	}
	return name
}

// BuildWorld builds the hierarchy, LSOAs and practices for cfg without
// writing anything; it is cheap enough to run at England scale in tests.
func BuildWorld(cfg Config) (*World, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	end, _ := parseMonth(cfg.EndMonth)
	w := &World{Seed: cfg.Seed, End: end, Start: end - month(cfg.Months) + 1}
	r := newRand(cfg.Seed, stHierarchy, 0, 0)
	n := cfg.Practices

	// Regions -> ICBs: England's 42 in their real split, scaled, at least 2 per region
	// (1 when there are fewer than 14 practices).
	minICB := 2
	if n < 14 {
		minICB = 1
	}
	nICB := scaled(englandICBs, n, 7*minICB, n)
	rw := make([]float64, len(Regions))
	for i, rg := range Regions {
		rw[i] = float64(rg.ICBs)
	}
	// proportional to England's split (exact at England scale), then topped up
	// to the minimum from the region with the most
	icbParts := largestRemainder(int64(nICB), rw, nil)
	for {
		lo, hi := 0, 0
		for i := range icbParts {
			if icbParts[i] < icbParts[lo] {
				lo = i
			}
			if icbParts[i] > icbParts[hi] {
				hi = i
			}
		}
		if icbParts[lo] >= int64(minICB) {
			break
		}
		icbParts[lo]++
		icbParts[hi]--
	}
	icbPerRegion := make([]int, len(icbParts))
	for i, k := range icbParts {
		icbPerRegion[i] = int(k)
	}
	usedCodes := map[string]bool{}
	uniq := func(gen func() string) string {
		for {
			c := gen()
			if !usedCodes[c] {
				usedCodes[c] = true
				return c
			}
		}
	}
	const alnum = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	const letters = "ABCDEFGHJKLMNPQRSTVWXY"
	placeIdx := 0
	nextPlace := func() string {
		placeIdx++
		return place(placeIdx*37 + 11)
	}
	for ri, k := range icbPerRegion {
		for j := 0; j < k; j++ {
			code := uniq(func() string { return "Q" + string(alnum[r.IntN(len(alnum))]) + string(alnum[r.IntN(len(alnum))]) })
			a, b := nextPlace(), nextPlace()
			short := a + " and " + b
			if r.IntN(3) == 0 {
				short = a
			}
			w.ICBs = append(w.ICBs, ICB{Code: code, ONS: fmt.Sprintf("E54%06d", 8+len(w.ICBs)), Name: "NHS " + short + " Integrated Care Board", Short: short, Region: ri})
		}
	}

	// ICBs -> sub-ICBs: scaled from 106, at least one per ICB.
	nSub := scaled(englandSubICBs, n, len(w.ICBs)+len(w.ICBs)/2, n)
	if nSub < len(w.ICBs) {
		nSub = len(w.ICBs)
	}
	iw := make([]float64, len(w.ICBs))
	for i := range iw {
		iw[i] = 0.5 + r.Float64()
	}
	subPerICB := allocate(nSub, iw, 1)
	for ii, k := range subPerICB {
		for j := 0; j < k; j++ {
			code := uniq(func() string { return fmt.Sprintf("%02d%c", r.IntN(100), letters[r.IntN(len(letters))]) })
			w.SubICBs = append(w.SubICBs, SubICB{Code: code, ONS: fmt.Sprintf("E38%06d", 1+len(w.SubICBs)*3), ICB: ii,
				Name: "NHS " + w.ICBs[ii].Short + " ICB - " + code, Place: nextPlace()})
		}
	}

	// Practices per sub-ICB: each region's share of England's practices, split
	// within the region with some spread, every sub-ICB at least one.
	sw := make([]float64, len(w.SubICBs))
	subsInRegion := make([]int, len(Regions))
	for si := range w.SubICBs {
		subsInRegion[w.RegionOf(si)]++
	}
	for si := range w.SubICBs {
		rg := w.RegionOf(si)
		sw[si] = Regions[rg].Weight / float64(subsInRegion[rg]) * math.Exp(0.4*r.NormFloat64())
	}
	pracPerSub := allocate(n, sw, 1)

	// LSOAs: about 5.2 per practice, laid out along a line per sub-ICB so that
	// neighbouring indexes are "nearby"; IMD has an area and a local component.
	nLSOA := scaled(englandLSOAs, n, n*3, 10*englandLSOAs)
	lw := make([]float64, len(w.SubICBs))
	for i, k := range pracPerSub {
		lw[i] = float64(k)
	}
	lsoaPerSub := allocate(nLSOA, lw, 3)
	if err := w.buildLSOAs(cfg.Seed, lsoaPerSub); err != nil {
		return nil, err
	}

	// PCNs: about 5 practices each, within a sub-ICB.
	pcnRatio := float64(englandPCNs) / englandPractices
	pr := newRand(cfg.Seed, stPractice, 0, 0)
	codeLetters := "ABCDEFGHJKLMNPY"
	for si, k := range pracPerSub {
		nP := int(math.Max(1, math.Round(float64(k)*pcnRatio)))
		first := len(w.PCNs)
		for j := 0; j < nP; j++ {
			code := uniq(func() string { return fmt.Sprintf("U%05d", 1000+r.IntN(99000)) })
			name := nextPlace() + " PCN"
			if r.IntN(4) == 0 {
				name = strings.ToUpper(name[:1]) + name[1:]
				name = "The " + name
			}
			w.PCNs = append(w.PCNs, PCN{Code: code, Name: name, SubICB: si})
		}
		for j := 0; j < k; j++ {
			idx := len(w.Practices)
			p := Practice{Index: idx, SubICB: si, PCN: first + j*nP/k}
			rg := w.RegionOf(si)
			letter := codeLetters[(rg*2+r.IntN(2))%len(codeLetters)]
			p.Code = uniq(func() string { return fmt.Sprintf("%c%05d", letter, 81001+r.IntN(18000)) })
			w.initPractice(&p, pr)
			w.Practices = append(w.Practices, p)
		}
	}
	w.plantChanges(cfg.Seed)
	w.plantOutliers(cfg.Seed)
	w.nonPractices(r, uniq)
	return w, nil
}

// buildLSOAs lays out LSOAs, LADs and IMD scores and ranks.
func (w *World) buildLSOAs(seed int64, perSub []int) error {
	r := newRand(seed, stLSOA, 0, 0)
	const rho = 0.75
	const localSD = 0.5
	const areaSD = 0.3
	// median chosen so the mean of the lognormal is about 21.7
	mu := math.Log(englandIMDMean) - (localSD*localSD+areaSD*areaSD)/2
	ladPlace := 500
	for si, k := range perSub {
		sub := &w.SubICBs[si]
		sub.LSOALo = len(w.LSOAs)
		area := areaSD*r.NormFloat64() + Regions[w.RegionOf(si)].Deprivation
		nLAD := int(math.Max(1, math.Round(float64(k)/110)))
		ladFirst := len(w.LADs)
		for j := 0; j < nLAD; j++ {
			prefix := "E07"
			switch {
			case w.RegionOf(si) == 0:
				prefix = "E09"
			case r.IntN(3) == 0:
				prefix = "E08"
			case r.IntN(3) == 0:
				prefix = "E06"
			}
			ladPlace++
			w.LADs = append(w.LADs, LAD{Code: fmt.Sprintf("%s%06d", prefix, len(w.LADs)+1), Name: place(ladPlace*13 + 3)})
		}
		local := r.NormFloat64() * localSD
		perLAD := map[int]int{}
		for j := 0; j < k; j++ {
			local = rho*local + math.Sqrt(1-rho*rho)*localSD*r.NormFloat64()
			s := clamp(math.Exp(mu+area+local), 0.54, 92.7)
			lad := ladFirst + j*nLAD/k
			perLAD[lad]++
			seq := perLAD[lad]
			code := fmt.Sprintf("E01%06d", len(w.LSOAs)+1)
			name := fmt.Sprintf("%s %03d%c", w.LADs[lad].Name, (seq-1)/4+1, 'A'+rune((seq-1)%4))
			w.LSOAs = append(w.LSOAs, LSOA{Code: code, Name: name, LAD: lad, SubICB: si, Score: round(s, 3)})
		}
		sub.LSOAHi = len(w.LSOAs)
	}
	// rescale so the national mean is England's (the lognormal's sample mean wanders)
	var tot float64
	for _, l := range w.LSOAs {
		tot += l.Score
	}
	f := englandIMDMean / (tot / float64(len(w.LSOAs)))
	for i := range w.LSOAs {
		w.LSOAs[i].Score = round(clamp(w.LSOAs[i].Score*f, 0.54, 92.7), 3)
	}
	// ranks: 1 = most deprived; ties by code order
	idx := make([]int, len(w.LSOAs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return w.LSOAs[idx[a]].Score > w.LSOAs[idx[b]].Score })
	n := len(idx)
	for rank, i := range idx {
		l := &w.LSOAs[i]
		l.Rank = rank + 1
		l.Decile = int(math.Ceil(float64(rank+1) * 10 / float64(n)))
		// domain scores track the overall score with noise
		s := l.Score
		d := newRand(seed, stLSOA, uint64(i)+1, 1)
		l.Domains = [7]float64{
			clamp(0.005+s*0.0055+0.02*d.NormFloat64(), 0.003, 0.65),  // income rate
			clamp(0.004+s*0.0042+0.015*d.NormFloat64(), 0.002, 0.55), // employment rate
			clamp(1+s*0.85+8*d.NormFloat64(), 0.02, 99.5),            // education
			clamp(-1.6+s*0.05+0.4*d.NormFloat64(), -3.3, 3.8),        // health
			clamp(-1.5+s*0.04+0.45*d.NormFloat64(), -3.0, 3.4),       // crime
			clamp(22+0.05*s+9*d.NormFloat64(), 0.5, 75),              // barriers
			clamp(5+0.5*s+10*d.NormFloat64(), 0.3, 95),               // living environment
		}
	}
	return nil
}

// initPractice draws a practice's characteristics.
func (w *World) initPractice(p *Practice, r *rand.Rand) {
	sub := w.SubICBs[p.SubICB]
	// list size: log-normal, median ~8,000, 1,000 to 60,000
	p.BaseList = clamp(8000*math.Exp(0.55*r.NormFloat64()), 1000, 60000)
	p.Growth = 0.01 + 0.02*r.NormFloat64()
	p.OpenDate = time.Date(1974, 4, 1, 0, 0, 0, 0, time.UTC)
	if r.IntN(3) == 0 {
		// opened some time after 1974 but well before the window
		last := min(2019, w.Start.year()-2)
		if last > 1975 {
			p.OpenDate = time.Date(1975+r.IntN(last-1975), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		}
	}
	p.Open = month(p.OpenDate.Year()*12 + int(p.OpenDate.Month()) - 1)
	p.Status = "A"

	// patients come from a handful of neighbouring LSOAs plus a thin tail
	lo, hi := sub.LSOALo, sub.LSOAHi
	c := lo + r.IntN(hi-lo)
	k := 2 + r.IntN(3)
	seen := map[int]bool{}
	add := func(i int, wt float64) {
		if seen[i] {
			return
		}
		seen[i] = true
		p.LSOAs = append(p.LSOAs, i)
		p.LSOAWeight = append(p.LSOAWeight, wt)
	}
	for d := -k; d <= k; d++ {
		if i := c + d; i >= lo && i < hi {
			add(i, math.Exp(-math.Abs(float64(d))/1.5)*(0.7+0.6*r.Float64()))
		}
	}
	for j := 0; j < 6; j++ {
		add(lo+r.IntN(hi-lo), 0.004+0.01*r.Float64())
	}
	for j := 0; j < 2; j++ {
		add(r.IntN(len(w.LSOAs)), 0.001+0.002*r.Float64())
	}
	sort.Sort(byLSOA{p})
	var sw, ss float64
	for i, l := range p.LSOAs {
		sw += p.LSOAWeight[i]
		ss += p.LSOAWeight[i] * w.LSOAs[l].Score
	}
	p.IMD = ss / sw
	p.Dz = (p.IMD - englandIMDMean) / 12

	// age structure: deprived practices are younger; a few student practices
	tilt := 0.08 * r.NormFloat64()
	student := r.IntN(60) == 0
	var tot float64
	for b := 0; b < nBands; b++ {
		mid := float64(b*5) + 2.5
		f := math.Exp((-0.14*p.Dz + tilt) * (mid - 40) / 40)
		if student && (b == 3 || b == 4) {
			f *= 5
		}
		p.AgeShare[b] = baseAgeFemale[b] * f
		p.AgeShare[nBands+b] = baseAgeMale[b] * f
		tot += p.AgeShare[b] + p.AgeShare[nBands+b]
	}
	for i := range p.AgeShare {
		p.AgeShare[i] /= tot
	}

	p.Quality = -0.025*p.Dz + 0.035*r.NormFloat64()
	p.Referral = math.Exp(0.12*p.Dz + 0.15*r.NormFloat64())
	p.GPFTE10k = 6.0 * math.Exp(-0.09*p.Dz+0.2*r.NormFloat64())
	p.Contract = []string{"GMS", "GMS", "GMS", "PMS", "APMS"}[r.IntN(5)]
	if r.IntN(8) == 0 && p.Dz < 0.5 {
		p.Rural = true
		p.Dispensing = r.IntN(2) == 0
	}
	p.Supplier = []string{"EMIS", "EMIS", "EMIS", "TPP", "TPP", "VISION"}[r.IntN(6)]
	p.Specialist = r.IntN(2500) == 0

	// names and addresses
	town := sub.Place
	switch r.IntN(5) {
	case 0:
		p.Name = "The " + surnames[r.IntN(len(surnames))] + " " + practiceKinds[r.IntN(len(practiceKinds))]
	case 1:
		p.Name = place(r.IntN(700)) + " " + practiceKinds[r.IntN(len(practiceKinds))] + ", " + town
	default:
		p.Name = place(r.IntN(700)) + " " + practiceKinds[r.IntN(len(practiceKinds))]
	}
	p.Addr = [4]string{fmt.Sprintf("%d %s", 1+r.IntN(200), streets[r.IntN(len(streets))]), "", town, ""}
	if r.IntN(3) == 0 {
		p.Addr[1] = place(r.IntN(700))
	}
	pc := []string{"E", "N", "SE", "B", "M", "LS", "S", "NE", "BS", "CB", "PO", "TS", "L", "NG", "LE", "OX"}
	p.Postcode = fmt.Sprintf("%s%d %d%c%c", pc[(p.SubICB*3)%len(pc)], 1+r.IntN(28), r.IntN(10), 'A'+rune(r.IntN(26)), 'A'+rune(r.IntN(26)))
	p.Phone = fmt.Sprintf("0%d %06d", 1000+r.IntN(9000), r.IntN(1000000))
}

type byLSOA struct{ p *Practice }

func (b byLSOA) Len() int           { return len(b.p.LSOAs) }
func (b byLSOA) Less(i, j int) bool { return b.p.LSOAs[i] < b.p.LSOAs[j] }
func (b byLSOA) Swap(i, j int) {
	b.p.LSOAs[i], b.p.LSOAs[j] = b.p.LSOAs[j], b.p.LSOAs[i]
	b.p.LSOAWeight[i], b.p.LSOAWeight[j] = b.p.LSOAWeight[j], b.p.LSOAWeight[i]
}

// plantChanges opens, closes and moves a few practices inside the window:
// about 1% a year close, 0.5% a year open, 1% move PCN, 1% have no PCN.
func (w *World) plantChanges(seed int64) {
	r := newRand(seed, stPractice, 1, 0)
	span := int(w.End - w.Start + 1)
	years := float64(span) / 12
	var closed, opened, moved int
	defer func() {
		// small runs still show each kind of change once (when the window allows)
		if span < 2 || len(w.Practices) < 20 {
			return
		}
		for i := 0; i < len(w.Practices) && (closed == 0 || opened == 0 || moved == 0); i++ {
			p := &w.Practices[(i*7919)%len(w.Practices)]
			if p.Close != 0 || p.Open > w.Start || p.PCNMove != 0 || p.PCN < 0 {
				continue
			}
			switch {
			case closed == 0:
				p.Close, p.Status = w.Start+month(span/2), "C"
				closed++
			case opened == 0:
				p.Open = w.Start + month(span/2)
				p.OpenDate = p.Open.first().AddDate(0, 0, 3)
				p.BaseList = clamp(p.BaseList*0.5, 1000, 60000)
				opened++
			case moved == 0:
				for j, c := range w.PCNs {
					if c.SubICB == p.SubICB && j != p.PCN {
						p.PCNAfter, p.PCNMove = j, w.Start+month(span/2)
						moved++
						break
					}
				}
			}
		}
	}()
	for i := range w.Practices {
		p := &w.Practices[i]
		u := r.Float64()
		switch {
		case u < 0.01*years:
			// closes in the window (not in its last month, so it is visibly closed)
			if span > 1 {
				p.Close = w.Start + month(r.IntN(span-1))
				p.Status = "C"
				closed++
			}
		case u < 0.015*years:
			// opens in the window (after its first month)
			if span > 1 {
				p.Open = w.Start + 1 + month(r.IntN(span-1))
				p.OpenDate = p.Open.first().AddDate(0, 0, r.IntN(20))
				p.BaseList = clamp(p.BaseList*0.5, 1000, 60000)
				opened++
			}
		}
		v := r.Float64()
		switch {
		case v < 0.01:
			p.PCN = -1
		case v < 0.02 && span > 1:
			// moves to another PCN in the same sub-ICB, if it has one
			var cands []int
			for j, c := range w.PCNs {
				if c.SubICB == p.SubICB && j != p.PCN {
					cands = append(cands, j)
				}
			}
			if len(cands) > 0 {
				p.PCNAfter = cands[r.IntN(len(cands))]
				p.PCNMove = w.Start + 1 + month(r.IntN(span-1))
				moved++
			}
		}
	}
}

// plantOutliers marks about 0.5% of practices (at least one of each kind)
// among those open for the whole window.
func (w *World) plantOutliers(seed int64) {
	r := newRand(seed, stPractice, 2, 0)
	kinds := []string{OutlierLowQOF, OutlierHighReferrals, OutlierLowGPFTE}
	want := int(math.Round(0.005 * float64(len(w.Practices))))
	if want < len(kinds) {
		want = len(kinds)
	}
	perm := r.Perm(len(w.Practices))
	k := 0
	for _, i := range perm {
		if k >= want {
			break
		}
		p := &w.Practices[i]
		if p.Close != 0 || p.Open > w.Start || p.Specialist || p.BaseList < 3000 {
			continue
		}
		p.Outlier = kinds[k%len(kinds)]
		switch p.Outlier {
		case OutlierLowQOF:
			p.OutFactor = -0.35
			p.Quality = p.OutFactor
		case OutlierHighReferrals:
			p.OutFactor = 2.5
			p.Referral *= p.OutFactor
		case OutlierLowGPFTE:
			p.OutFactor = 0.3
			p.GPFTE10k *= p.OutFactor
		}
		k++
	}
}

// nonPractices adds a few epraccur rows that are not GP practices.
func (w *World) nonPractices(r *rand.Rand, uniq func(func() string) string) {
	n := 3 + len(w.Practices)/300
	settings := []string{"1", "8", "9", "10", "12", "13"}
	kinds := []string{"Urgent Treatment Centre", "Out Of Hours Service", "Walk In Centre", "Community Health Service", "Prison Health Service", "Hospice Prescribing"}
	for i := 0; i < n; i++ {
		si := r.IntN(len(w.SubICBs))
		j := r.IntN(len(settings))
		p := Practice{SubICB: si, PCN: -1, Status: "A"}
		p.Code = uniq(func() string { return fmt.Sprintf("Y%05d", r.IntN(100000)) })
		p.Name = strings.ToUpper(w.SubICBs[si].Place + " " + kinds[j])
		p.OpenDate = time.Date(2005+r.IntN(15), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
		p.Addr = [4]string{fmt.Sprintf("%d %s", 1+r.IntN(99), streets[r.IntN(len(streets))]), "", w.SubICBs[si].Place, ""}
		p.Postcode = fmt.Sprintf("ZZ%d %dAA", 1+r.IntN(9), r.IntN(10))
		w.NonPractices = append(w.NonPractices, p)
		w.NonSetting = append(w.NonSetting, settings[j])
	}
}

// ListSize is the practice's registered list in month m (0 when closed).
func (w *World) ListSize(p *Practice, m month) int64 {
	if !p.OpenIn(m) {
		return 0
	}
	return w.listAt(p, m)
}

// listAt is the modelled list at any month, open or not (for annual files
// whose reference date lies outside the window).
func (w *World) listAt(p *Practice, m month) int64 {
	yrs := float64(m-w.End) / 12
	f := math.Exp(p.Growth*yrs) * (1 + 0.004*hashNorm(w.Seed, stMonthNoise, uint64(p.Index), uint64(m)))
	if p.Open > w.Start {
		// a new practice builds its list over its first year (annual files may
		// ask about a date before it opened: use its opening list then)
		f *= math.Min(1, 0.3+0.7*float64(max(m, p.Open)-p.Open+1)/12)
	}
	return int64(math.Max(50, math.Round(p.BaseList*f)))
}

// AgeSex splits the month's list into 40 cells (female bands, then male bands).
func (w *World) AgeSex(p *Practice, m month, out []int64) []int64 {
	return largestRemainder(w.ListSize(p, m), p.AgeShare[:], out)
}
