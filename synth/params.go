package synth

// Parameters of the synthetic world. The indicator set is the real QOF
// 2022-23 set (as published in the 2023-24 PREVIOUS_INDICATOR_MAPPINGS.csv);
// the thresholds and base rates are synth's own choices, exported through
// Indicators so tests and the metrics can compare against them.

// Region is an NHS England commissioning region.
type Region struct {
	Code, ONS, Name string
	PaymentsName    string // as NHS Payments spells it
	Weight          float64
	ICBs            int     // ICBs at England scale
	Deprivation     float64 // shift of the log IMD score for the region
}

// Regions are the real seven regions with their 2022-23 practice counts as weights.
var Regions = []Region{
	{"Y56", "E40000003", "London", "LONDON COMMISSIONING REGION", 1159, 5, 0.15},
	{"Y58", "E40000006", "South West", "SOUTH WEST COMMISSIONING REGION", 542, 7, -0.15},
	{"Y59", "E40000005", "South East", "SOUTH EAST COMMISSIONING REGION", 812, 6, -0.3},
	{"Y60", "E40000011", "Midlands", "MIDLANDS COMMISSIONING REGION", 1283, 11, 0.05},
	{"Y61", "E40000007", "East of England", "EAST OF ENGLAND COMMISSIONING REGION", 656, 6, -0.2},
	{"Y62", "E40000010", "North West", "NORTH WEST COMMISSIONING REGION", 963, 3, 0.25},
	{"Y63", "E40000012", "North East and Yorkshire", "NORTH EAST AND YORKSHIRE COMM REGION", 963, 4, 0.2},
}

// England-scale counts the hierarchy builder scales from.
const (
	englandPractices = 6300
	englandICBs      = 42
	englandSubICBs   = 106
	englandPCNs      = 1250
	englandLSOAs     = 32844
	englandIMDMean   = 21.7
)

// AgeBands are the registrations' five-year bands.
var AgeBands = []string{"0_4", "5_9", "10_14", "15_19", "20_24", "25_29", "30_34", "35_39", "40_44", "45_49",
	"50_54", "55_59", "60_64", "65_69", "70_74", "75_79", "80_84", "85_89", "90_94", "95+"}

const nBands = 20

// England-like registered population per band (per 1,000, female then male).
var baseAgeFemale = [nBands]float64{26, 29, 30, 28, 31, 35, 37, 36, 33, 31, 33, 33, 29, 25, 24, 18, 13, 8, 3.5, 0.9}
var baseAgeMale = [nBands]float64{27, 30, 31, 29, 31, 34, 36, 35, 33, 31, 33, 32, 28, 24, 22, 16, 10, 5.5, 2, 0.4}

// PrevalenceGroup is a QOF register with its list type and the synthetic model.
type PrevalenceGroup struct {
	Code, Description string
	ListType          string  // TOTAL, 06OV, 16OV, 17OV, 18OV, 50OV
	Base              float64 // England prevalence on its list
	AgeElasticity     float64 // power of the practice's 65+ share relative to England
	DeprivationSlope  float64 // log-prevalence change per SD of practice IMD
}

// PrevalenceGroups are the 21 groups of the real PREVALENCE file, in its order.
var PrevalenceGroups = []PrevalenceGroup{
	{"AF", "Atrial fibrillation", "TOTAL", 0.021, 1.0, -0.02},
	{"AST", "Asthma", "06OV", 0.065, 0.0, 0.08},
	{"CAN", "Cancer", "TOTAL", 0.035, 0.9, -0.03},
	{"CHD", "Secondary prevention of coronary heart disease", "TOTAL", 0.030, 0.7, 0.18},
	{"CKD", "Chronic kidney disease", "18OV", 0.041, 0.9, 0.05},
	{"COPD", "Chronic obstructive pulmonary disease", "TOTAL", 0.019, 0.5, 0.38},
	{"DEM", "Dementia", "TOTAL", 0.007, 1.2, 0.02},
	{"DEP", "Depression", "18OV", 0.132, 0.0, 0.15},
	{"DM", "Diabetes mellitus", "17OV", 0.075, 0.15, 0.3},
	{"EP", "Epilepsy", "18OV", 0.008, 0.0, 0.2},
	{"HF", "Heart failure", "TOTAL", 0.010, 0.9, 0.15},
	{"HYP", "Hypertension", "TOTAL", 0.144, 0.7, 0.06},
	{"LD", "Learning disability", "TOTAL", 0.006, 0.0, 0.18},
	{"MH", "Mental health", "TOTAL", 0.0095, 0.0, 0.32},
	{"NDH", "Non-diabetic hyperglycaemia ", "18OV", 0.07, 0.4, 0.05},
	{"OB", "Obesity", "18OV", 0.099, 0.0, 0.22},
	{"OST", "Osteoporosis: secondary prevention of fragility fractures", "50OV", 0.009, 0.6, 0.0},
	{"PAD", "Peripheral arterial disease", "TOTAL", 0.006, 0.6, 0.2},
	{"PC", "Palliative care", "TOTAL", 0.005, 0.5, -0.05},
	{"RA", "Rheumatoid arthritis", "16OV", 0.008, 0.3, 0.05},
	{"STIA", "Stroke and transient ischaemic attack", "TOTAL", 0.018, 0.8, 0.1},
}

// Indicator kinds.
const (
	KindRegister = "register"   // REGISTER and ACHIEVED_POINTS
	KindPercent  = "percentage" // ACHIEVED_POINTS, NUMERATOR, DENOMINATOR, PCAS
	KindPoints   = "points"     // quality improvement: ACHIEVED_POINTS only
)

// Indicator is one QOF indicator with synth's thresholds.
type Indicator struct {
	Code                    string
	Points                  float64
	Group, GroupDescription string
	Domain, DomainDesc      string
	ListType, AddListType   string
	Kind                    string
	Lower, Upper            float64 // achievement thresholds in percent (E and F of the points formula)
	BaseRate                float64 // England achievement rate (numerator / denominator)
	// Population of the denominator: Base is a prevalence group code or a
	// list: "LIST:45OV", "LIST:15OV", "LIST:F25_49", "LIST:F50_64", "LIST:0_1" ...
	Base     string
	Fraction float64 // share of the base population eligible
	PCARate  float64 // personalised care adjustments as a share of the eligible
}

const (
	clinical = "Clinical"
	phealth  = "Public Health"
)

// Indicators is the 2022-23 QOF indicator set (76 indicators, 635 points).
var Indicators = []Indicator{
	{"AF001", 5, "AF", "Atrial fibrillation", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "AF", 1, 0},
	{"AF006", 12, "AF", "Atrial fibrillation", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 40, 70, 0.84, "AF", 0.3, 0.08},
	{"AF007", 12, "AF", "Atrial fibrillation", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 70, 95, 0.95, "AF", 0.8, 0.07},
	{"AST005", 4, "AST", "Asthma", "CL", clinical, "06OV", "TOTAL", KindRegister, 0, 0, 0, "AST", 1, 0},
	{"AST006", 15, "AST", "Asthma", "CL", clinical, "06OV", "TOTAL", KindPercent, 45, 80, 0.78, "AST", 0.1, 0.1},
	{"AST007", 20, "AST", "Asthma", "CL", clinical, "06OV", "TOTAL", KindPercent, 45, 70, 0.68, "AST", 1, 0.12},
	{"AST008", 6, "AST", "Asthma", "CL", clinical, "06OV", "06_19", KindPercent, 45, 80, 0.76, "AST", 0.15, 0.1},
	{"BP002", 15, "BP", "Blood pressure", "PH", phealth, "45OV", "TOTAL", KindPercent, 50, 90, 0.94, "LIST:45OV", 1, 0.02},
	{"CAN001", 5, "CAN", "Cancer", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "CAN", 1, 0},
	{"CAN004", 6, "CAN", "Cancer", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 50, 90, 0.86, "CAN", 0.1, 0.05},
	{"CAN005", 2, "CAN", "Cancer", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 70, 90, 0.9, "CAN", 0.1, 0.05},
	{"CHD001", 4, "CHD", "Secondary prevention of coronary heart disease", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "CHD", 1, 0},
	{"CHD005", 7, "CHD", "Secondary prevention of coronary heart disease", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 56, 96, 0.96, "CHD", 0.95, 0.08},
	{"CHD008", 12, "CHD", "Secondary prevention of coronary heart disease", "CL", clinical, "TOTAL", "79UN", KindPercent, 52, 92, 0.84, "CHD", 0.5, 0.1},
	{"CHD009", 5, "CHD", "Secondary prevention of coronary heart disease", "CL", clinical, "TOTAL", "80OV", KindPercent, 46, 86, 0.89, "CHD", 0.3, 0.12},
	{"CKD005", 6, "CKD", "Chronic kidney disease", "CL", clinical, "18OV", "TOTAL", KindRegister, 0, 0, 0, "CKD", 1, 0},
	{"COPD008", 2, "COPD", "Chronic obstructive pulmonary disease", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "COPD", 1, 0},
	{"COPD009", 8, "COPD", "Chronic obstructive pulmonary disease", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 45, 80, 0.8, "COPD", 0.3, 0.1},
	{"COPD010", 9, "COPD", "Chronic obstructive pulmonary disease", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 50, 90, 0.84, "COPD", 0.95, 0.12},
	{"CS005", 7, "CS", "Cervical screening", "PHAS", "Public Health Additional Services", "25_64_F", "25_49_F", KindPercent, 45, 80, 0.78, "LIST:F25_49", 1, 0.03},
	{"CS006", 4, "CS", "Cervical screening", "PHAS", "Public Health Additional Services", "25_64_F", "50_64_F", KindPercent, 45, 80, 0.82, "LIST:F50_64", 1, 0.03},
	{"DEM001", 5, "DEM", "Dementia", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "DEM", 1, 0},
	{"DEM004", 39, "DEM", "Dementia", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 35, 70, 0.76, "DEM", 0.95, 0.15},
	{"DEP003", 10, "DEP", "Depression", "CL", clinical, "18OV", "TOTAL", KindPercent, 45, 80, 0.74, "DEP", 0.12, 0.2},
	{"DM006", 3, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "TOTAL", KindPercent, 57, 97, 0.91, "DM", 0.3, 0.1},
	{"DM012", 4, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "TOTAL", KindPercent, 50, 90, 0.88, "DM", 0.95, 0.08},
	{"DM014", 11, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "TOTAL", KindPercent, 40, 90, 0.76, "DM", 0.1, 0.1},
	{"DM017", 6, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "TOTAL", KindRegister, 0, 0, 0, "DM", 1, 0},
	{"DM019", 10, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "TOTAL", KindPercent, 38, 78, 0.78, "DM", 0.4, 0.12},
	{"DM020", 17, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "TOTAL", KindPercent, 35, 75, 0.68, "DM", 0.45, 0.15},
	{"DM021", 10, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "TOTAL", KindPercent, 52, 92, 0.86, "DM", 0.3, 0.15},
	{"DM022", 4, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "40OV", KindPercent, 50, 90, 0.88, "DM", 0.9, 0.08},
	{"DM023", 2, "DM", "Diabetes mellitus", "CL", clinical, "17OV", "TOTAL", KindPercent, 50, 90, 0.84, "DM", 0.1, 0.1},
	{"EP001", 1, "EP", "Epilepsy", "CL", clinical, "18OV", "TOTAL", KindRegister, 0, 0, 0, "EP", 1, 0},
	{"HF001", 4, "HF", "Heart failure", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "HF", 1, 0},
	{"HF003", 6, "HF", "Heart failure", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 60, 92, 0.88, "HF", 0.6, 0.1},
	{"HF005", 6, "HF", "Heart failure", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 60, 92, 0.86, "HF", 0.1, 0.1},
	{"HF006", 6, "HF", "Heart failure", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 60, 92, 0.81, "HF", 0.5, 0.12},
	{"HF007", 7, "HF", "Heart failure", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 50, 90, 0.78, "HF", 0.5, 0.12},
	{"HYP001", 6, "HYP", "Hypertension", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "HYP", 1, 0},
	{"HYP003", 14, "HYP", "Hypertension", "CL", clinical, "TOTAL", "79UN", KindPercent, 40, 77, 0.72, "HYP", 0.75, 0.08},
	{"HYP007", 5, "HYP", "Hypertension", "CL", clinical, "TOTAL", "80OV", KindPercent, 46, 86, 0.86, "HYP", 0.2, 0.1},
	{"LD004", 4, "LD", "Learning disability", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "LD", 1, 0},
	{"MH001", 4, "MH", "Mental health", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "MH", 1, 0},
	{"MH002", 6, "MH", "Mental health", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 40, 90, 0.76, "MH", 0.9, 0.18},
	{"MH003", 4, "MH", "Mental health", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 50, 90, 0.86, "MH", 0.9, 0.12},
	{"MH006", 4, "MH", "Mental health", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 50, 90, 0.84, "MH", 0.9, 0.12},
	{"MH007", 4, "MH", "Mental health", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 40, 90, 0.76, "MH", 0.9, 0.15},
	{"MH011", 8, "MH", "Mental health", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 40, 90, 0.71, "MH", 0.9, 0.15},
	{"MH012", 8, "MH", "Mental health", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 40, 90, 0.68, "MH", 0.9, 0.15},
	{"NDH001", 18, "NDH", "Non-diabetic hyperglycaemia ", "CL", clinical, "18OV", "TOTAL", KindPercent, 50, 90, 0.84, "NDH", 1, 0.05},
	{"OB002", 8, "OB", "Obesity", "PH", phealth, "18OV", "TOTAL", KindRegister, 0, 0, 0, "OB", 1, 0},
	{"OST004", 3, "OST", "Osteoporosis: secondary prevention of fragility fractures", "CL", clinical, "50OV", "TOTAL", KindRegister, 0, 0, 0, "OST", 1, 0},
	{"PAD001", 2, "PAD", "Peripheral arterial disease", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "PAD", 1, 0},
	{"PC001", 3, "PC", "Palliative care", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "PC", 1, 0},
	{"QIPDD009", 27, "QIPDD", "Prescription Drug Dependency", "QI", "Quality improvement", "TOTAL", "TOTAL", KindPoints, 0, 0, 0.93, "", 0, 0},
	{"QIPDD010", 10, "QIPDD", "Prescription Drug Dependency", "QI", "Quality improvement", "TOTAL", "TOTAL", KindPoints, 0, 0, 0.93, "", 0, 0},
	{"QIOA011", 27, "QIOA", "Optimising Access", "QI", "Quality improvement", "TOTAL", "TOTAL", KindPoints, 0, 0, 0.93, "", 0, 0},
	{"QIOA012", 10, "QIOA", "Optimising Access", "QI", "Quality improvement", "TOTAL", "TOTAL", KindPoints, 0, 0, 0.93, "", 0, 0},
	{"RA001", 1, "RA", "Rheumatoid arthritis", "CL", clinical, "16OV", "TOTAL", KindRegister, 0, 0, 0, "RA", 1, 0},
	{"RA002", 5, "RA", "Rheumatoid arthritis", "CL", clinical, "16OV", "TOTAL", KindPercent, 40, 90, 0.82, "RA", 0.9, 0.1},
	{"SMOK002", 25, "SMOK", "Smoking", "PH", phealth, "15OV", "TOTAL", KindPercent, 50, 90, 0.94, "LIST:15OV", 0.35, 0.03},
	{"SMOK004", 12, "SMOK", "Smoking", "PH", phealth, "15OV", "TOTAL", KindPercent, 40, 90, 0.86, "LIST:15OV", 0.14, 0.03},
	{"SMOK005", 25, "SMOK", "Smoking", "PH", phealth, "15OV", "TOTAL", KindPercent, 56, 96, 0.94, "LIST:15OV", 0.05, 0.03},
	{"STIA001", 2, "STIA", "Stroke and transient ischaemic attack", "CL", clinical, "TOTAL", "TOTAL", KindRegister, 0, 0, 0, "STIA", 1, 0},
	{"STIA007", 4, "STIA", "Stroke and transient ischaemic attack", "CL", clinical, "TOTAL", "TOTAL", KindPercent, 57, 97, 0.94, "STIA", 0.5, 0.08},
	{"STIA010", 3, "STIA", "Stroke and transient ischaemic attack", "CL", clinical, "TOTAL", "79UN", KindPercent, 40, 77, 0.76, "STIA", 0.55, 0.1},
	{"STIA011", 2, "STIA", "Stroke and transient ischaemic attack", "CL", clinical, "TOTAL", "80OV", KindPercent, 46, 86, 0.88, "STIA", 0.35, 0.12},
	{"VI001", 18, "VI", "Vaccination and immunisation", "PHVI", "Public Health Vaccination and Immunisation", "TOTAL", "0_1", KindPercent, 89, 95, 0.97, "LIST:0_1", 1, 0.01},
	{"VI002", 18, "VI", "Vaccination and immunisation", "PHVI", "Public Health Vaccination and Immunisation", "TOTAL", "1_2", KindPercent, 86, 95, 0.96, "LIST:1_2", 1, 0.01},
	{"VI003", 18, "VI", "Vaccination and immunisation", "PHVI", "Public Health Vaccination and Immunisation", "TOTAL", "4_5", KindPercent, 80, 95, 0.92, "LIST:4_5", 1, 0.01},
	{"VI004", 10, "VI", "Vaccination and immunisation", "PHVI", "Public Health Vaccination and Immunisation", "TOTAL", "79_80", KindPercent, 50, 80, 0.76, "LIST:79_80", 1, 0.02},
	{"QIPDDMI001", 0, "QIPDD_MI", "Prescription Drug Dependency (management information)", "QI", "Quality improvement", "18OV", "TOTAL", KindPercent, 0, 0, 0.56, "LIST:18OV", 0.03, 0},
	{"QIPDDMI002", 0, "QIPDD_MI", "Prescription Drug Dependency (management information)", "QI", "Quality improvement", "18OV", "TOTAL", KindPercent, 0, 0, 0.46, "LIST:18OV", 0.02, 0},
	{"QIPDDMI003", 0, "QIPDD_MI", "Prescription Drug Dependency (management information)", "QI", "Quality improvement", "18OV", "TOTAL", KindPercent, 0, 0, 0.36, "LIST:18OV", 0.01, 0},
	{"QIPDDMI004", 0, "QIPDD_MI", "Prescription Drug Dependency (management information)", "QI", "Quality improvement", "18OV", "TOTAL", KindPercent, 0, 0, 0.26, "LIST:18OV", 0.01, 0},
}

// Points returns the QOF points for achievement d (percent) on indicator ind:
// G·(D−E)/(F−E) clamped to [0, G].
func Points(ind Indicator, d float64) float64 {
	if ind.Upper <= ind.Lower {
		return 0
	}
	return clamp(ind.Points*(d-ind.Lower)/(ind.Upper-ind.Lower), 0, ind.Points)
}

// Referral specialties (NHS treatment function codes) with England-like shares
// for children, adults and older people.
type Specialty struct {
	Code                 string
	Child, Adult, Older  float64
	FemaleOnly, MaleBias bool
}

// Specialties are the referral treatment functions synth writes.
var Specialties = []Specialty{
	{"100", 4, 8, 8, false, false},
	{"101", 1, 5, 8, false, true},
	{"110", 6, 13, 12, false, false},
	{"120", 14, 7, 5, false, false},
	{"130", 8, 6, 12, false, false},
	{"300", 2, 5, 7, false, false},
	{"301", 3, 9, 8, false, false},
	{"320", 2, 6, 10, false, false},
	{"330", 10, 10, 9, false, false},
	{"340", 4, 3, 5, false, false},
	{"400", 4, 5, 4, false, false},
	{"410", 1, 3, 3, false, false},
	{"420", 40, 0, 0, false, false},
	{"502", 1, 11, 3, true, false},
	{"800", 0, 2, 6, false, false},
}

// Priorities of referrals.
var Priorities = []string{"ROUTINE", "URGENT", "2WW"}

// priority shares for children, adults and older people.
var priorityShares = [3][3]float64{{85, 13, 2}, {72, 12, 16}, {62, 14, 24}}

// referral propensity by age band (relative): older people are referred more.
var referralAgePropensity = [nBands]float64{0.5, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.3, 2.2, 2.0, 1.8}

// England GP referral rate per registered patient per month (about 1 million a month).
const baseReferralRate = 0.016
