package metrics

// Exported for the external tests of the SPC rule helpers.
var (
	SevenPointOneSideMean = sevenPointOneSideMean
	PartOfSevenTrend      = partOfSevenTrend
	SevenPointTrend       = sevenPointTrend
	TwoInThree            = twoInThree
	PartOfTwoInThree      = partOfTwoInThree
)
