package publish

import "sync"

// ColumnRemarks is the data dictionary's description of column of a
// reader relation (a marts table or analyst view, by name), for the SQL
// endpoint's catalog; "" when the dictionary does not describe it. The
// dictionary describes the feeds, which are drawn from the marts under
// the same names, so:
//   - a relation named like a feed takes that feed's description;
//   - otherwise the indicator_values feed's, the shared vocabulary of the
//     marts (indicator_id, area_code, value, lower95, ...);
//   - otherwise the description of the only feed column of that name, if
//     every feed having it describes it alike.
func ColumnRemarks(relation, column string) string {
	d := dictionary()
	if byCol, ok := d.feeds[relation]; ok {
		if text, ok := byCol[column]; ok {
			return text
		}
	}
	if text, ok := d.feeds["indicator_values"][column]; ok {
		return text
	}
	return d.unique[column]
}

type dict struct {
	feeds  map[string]map[string]string // feed -> column -> description
	unique map[string]string            // column -> its one description
}

var dictionary = sync.OnceValue(func() dict {
	d := dict{feeds: map[string]map[string]string{}, unique: map[string]string{}}
	seen := map[string]map[string]bool{}
	for _, s := range sections {
		byCol := map[string]string{}
		for _, c := range s.published() {
			if c.Desc == "" {
				continue
			}
			byCol[c.Name] = c.Desc
			if seen[c.Name] == nil {
				seen[c.Name] = map[string]bool{}
			}
			seen[c.Name][c.Desc] = true
		}
		d.feeds[s.Name] = byCol
	}
	for col, texts := range seen {
		if len(texts) == 1 {
			for t := range texts {
				d.unique[col] = t
			}
		}
	}
	return d
})
