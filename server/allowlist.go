package server

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gplens/gplens/data"
)

// AllowListFile is the reviewed list of functions a client may call.
const AllowListFile = "sql_allowlist.csv"

// ReadableSchemas are the only schemas a client may read or see in the
// catalog: the marts and the analyst views.
var ReadableSchemas = []string{"analyst", "marts"}

// allowList is the parsed sql_allowlist.csv: function names (lower case) by
// kind. Expression functions (scalar, aggregate, window, macro, operator)
// share one namespace; table functions have their own.
type allowList struct {
	funcs    map[string]bool
	tables   map[string]bool
	category map[string][]string
}

// names lists the allowed functions of the given categories, sorted.
func (a *allowList) names(categories ...string) []string {
	var out []string
	for _, c := range categories {
		out = append(out, a.category[c]...)
	}
	sort.Strings(out)
	return out
}

func loadAllowList(workspace string) (*allowList, error) {
	t, err := data.ReadCSV(workspace, AllowListFile)
	if err != nil {
		return nil, err
	}
	a := &allowList{funcs: map[string]bool{}, tables: map[string]bool{}, category: map[string][]string{}}
	for i, r := range t.Rows {
		name := strings.ToLower(r["function"])
		if name == "" {
			return nil, fmt.Errorf("%s line %d: empty function name", AllowListFile, t.Lines[i])
		}
		a.category[r["category"]] = append(a.category[r["category"]], name)
		switch r["kind"] {
		case "scalar", "aggregate", "window", "macro", "operator":
			a.funcs[name] = true
		case "table":
			a.tables[name] = true
		default:
			return nil, fmt.Errorf("%s line %d: kind %q: want scalar, aggregate, window, macro, operator or table", AllowListFile, t.Lines[i], r["kind"])
		}
	}
	return a, nil
}

// Expression classes and table reference types DuckDB's parser produces
// that carry no name of their own to check. Anything else is refused, so a
// new kind of node in a later DuckDB is refused until reviewed.
var (
	allowedExprClasses = map[string]bool{
		"COLUMN_REF": true, "CONSTANT": true, "COMPARISON": true, "CONJUNCTION": true, "OPERATOR": true,
		"CASE": true, "CAST": true, "SUBQUERY": true, "STAR": true, "PARAMETER": true, "LAMBDA": true,
		"LAMBDA_REF": true, "BETWEEN": true, "COLLATE": true, "POSITIONAL_REFERENCE": true,
		// Checked by name below.
		"FUNCTION": true, "WINDOW": true, "AGGREGATE": true,
	}
	allowedTableRefs = map[string]bool{
		"BASE_TABLE": true, "TABLE_FUNCTION": true, "JOIN": true, "SUBQUERY": true,
		"EXPRESSION_LIST": true, "EMPTY": true, "SHOW_REF": true,
	}
	allowedNodes = map[string]bool{
		"SELECT_NODE": true, "SET_OPERATION_NODE": true, "RECURSIVE_CTE_NODE": true, "CTE_NODE": true,
	}
)

// refusal is a statement the allow-list turns away, with the reason a user
// can act on.
type refusal struct{ msg string }

func (r refusal) Error() string { return r.msg }

func refuse(format string, a ...any) error { return refusal{fmt.Sprintf(format, a...)} }

// checkTree checks DuckDB's parse tree of one statement (the output of
// json_serialize_sql) against the allow-list: one SELECT; every function
// and table function listed; every table in a readable schema or a CTE in
// scope; no time travel. The tree, not the text, is checked, so quoting,
// comments and case cannot hide a call.
func (a *allowList) checkTree(serialized string) error {
	var doc struct {
		Error        bool              `json:"error"`
		ErrorType    string            `json:"error_type"`
		ErrorMessage string            `json:"error_message"`
		Statements   []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(serialized), &doc); err != nil {
		return fmt.Errorf("parse tree: %w", err)
	}
	if doc.Error {
		if doc.ErrorType == "not implemented" {
			return refuse("read-only endpoint: only SELECT queries are allowed")
		}
		return refuse("%s", doc.ErrorMessage)
	}
	switch len(doc.Statements) {
	case 0:
		return refuse("empty query")
	case 1:
	default:
		return refuse("one statement per request: multi-statement text is refused")
	}
	var tree any
	dec := json.NewDecoder(strings.NewReader(string(doc.Statements[0])))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("parse tree: %w", err)
	}
	return a.walk(tree, nil)
}

// walk visits every object of the tree. ctes are the CTE names visible at
// this point (lower case).
func (a *allowList) walk(v any, ctes []string) error {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := a.walk(e, ctes); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		return a.walkObject(x, ctes)
	}
	return nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func (a *allowList) walkObject(m map[string]any, ctes []string) error {
	// A query node: its CTEs are visible to later CTEs, itself (recursive)
	// and the rest of the node, in order.
	if cm, ok := m["cte_map"].(map[string]any); ok {
		entries, _ := cm["map"].([]any)
		scope := append([]string(nil), ctes...)
		for _, e := range entries {
			em, _ := e.(map[string]any)
			name := strings.ToLower(str(em, "key"))
			scope = append(scope, name)
			if err := a.walk(em["value"], scope); err != nil {
				return err
			}
		}
		ctes = scope
	}
	if t := str(m, "type"); strings.HasSuffix(t, "_NODE") {
		if !allowedNodes[t] {
			return refuse("query construct %s is not allowed", strings.ToLower(strings.TrimSuffix(t, "_NODE")))
		}
	}
	if class, ok := m["class"].(string); ok {
		if !allowedExprClasses[class] {
			return refuse("expression %s is not allowed", strings.ToLower(class))
		}
		if fn, ok := m["function_name"].(string); ok {
			if err := a.checkFunc(m, fn, a.funcs, "function"); err != nil {
				return err
			}
		}
	}
	if _, isRef := m["sample"]; isRef && m["class"] == nil && !strings.HasSuffix(str(m, "type"), "_NODE") {
		if err := a.checkTableRef(m, ctes); err != nil {
			return err
		}
		if str(m, "type") == "TABLE_FUNCTION" {
			// The function itself was checked as a table function; walk
			// only its arguments.
			fm, _ := m["function"].(map[string]any)
			if err := a.walk(fm["children"], ctes); err != nil {
				return err
			}
			for k, v := range m {
				if k != "function" {
					if err := a.walk(v, ctes); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	for k, v := range m {
		if k == "cte_map" {
			continue
		}
		if err := a.walk(v, ctes); err != nil {
			return err
		}
	}
	return nil
}

func (a *allowList) checkFunc(m map[string]any, name string, list map[string]bool, what string) error {
	schema, catalog := strings.ToLower(str(m, "schema")), str(m, "catalog")
	if (schema != "" && schema != "main") || catalog != "" {
		return refuse("%s %s.%s is not allowed: call functions unqualified", what, schema, name)
	}
	if !list[strings.ToLower(name)] {
		return refuse("%s %s is not allowed on this endpoint (see data/%s)", what, name, AllowListFile)
	}
	return nil
}

func (a *allowList) checkTableRef(m map[string]any, ctes []string) error {
	t := str(m, "type")
	if !allowedTableRefs[t] {
		return refuse("table reference %s is not allowed", strings.ToLower(t))
	}
	switch t {
	case "BASE_TABLE":
		if at, ok := m["at_clause"]; ok && at != nil {
			return refuse("AT (time travel) is not allowed")
		}
		cat, sch, tbl := strings.ToLower(str(m, "catalog_name")), strings.ToLower(str(m, "schema_name")), strings.ToLower(str(m, "table_name"))
		if sch == "" && cat == "" {
			for _, c := range ctes {
				if c == tbl {
					return nil
				}
			}
			return refuse("table %q: name its schema, e.g. analyst.%s or marts.%s (readable schemas: %s)", tbl, tbl, tbl, strings.Join(ReadableSchemas, ", "))
		}
		if cat != "" && cat != "warehouse" {
			return refuse("catalog %q is not readable: use warehouse", cat)
		}
		for _, s := range ReadableSchemas {
			if s == sch {
				return nil
			}
		}
		return refuse("schema %q is not readable (readable schemas: %s)", sch, strings.Join(ReadableSchemas, ", "))
	case "TABLE_FUNCTION":
		fm, _ := m["function"].(map[string]any)
		if fm == nil || str(fm, "class") != "FUNCTION" {
			return refuse("table function form is not allowed")
		}
		return a.checkFunc(fm, str(fm, "function_name"), a.tables, "table function")
	case "SHOW_REF":
		// DESCRIBE / SUMMARIZE of a query; SHOW TABLES and friends read
		// the whole catalogue and are refused (use the catalog calls).
		if q, ok := m["query"].(map[string]any); !ok || q == nil {
			return refuse("SHOW is not allowed: use DESCRIBE analyst.NAME or the Flight SQL catalog calls")
		}
		if st := str(m, "show_type"); st != "DESCRIBE" && st != "SUMMARY" {
			return refuse("SHOW %s is not allowed", strings.ToLower(st))
		}
	}
	return nil
}
