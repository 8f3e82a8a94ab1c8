package query

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Column describes one result column.
type Column struct {
	Name string
	// Type is DuckDB's type name, e.g. "VARCHAR", "DECIMAL(10,2)", "INTEGER[]".
	Type string
}

// numeric reports whether a column holds numbers (right-aligned in tables,
// bare numbers in JSON).
func (c Column) numeric() bool {
	t := strings.ToUpper(c.Type)
	if strings.HasSuffix(t, "]") || strings.HasPrefix(t, "STRUCT") || strings.HasPrefix(t, "MAP") {
		return false
	}
	for _, p := range []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// formatText renders a scanned value as DuckDB's CLI shows it. typ is the
// column's DuckDB type, needed because DATE, TIME and TIMESTAMP all scan
// to time.Time and UUID to []byte. ok is false for NULL.
func formatText(v any, typ string) (s string, ok bool) {
	if v == nil {
		return "", false
	}
	return formatNested(v, strings.ToUpper(typ), false), true
}

func formatNested(v any, typ string, nested bool) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		if nested {
			return "'" + strings.ReplaceAll(x, "'", "''") + "'"
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x)
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return formatDecimal(x)
	case time.Time:
		return formatTime(x, typ)
	case duckdb.Interval:
		return formatInterval(x)
	case []byte:
		if typ == "UUID" && len(x) == 16 {
			h := hex.EncodeToString(x)
			return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
		}
		return formatBlob(x)
	case duckdb.UUID:
		return x.String()
	case []any:
		elem := strings.TrimSuffix(typ, "[]")
		if i := strings.LastIndex(typ, "["); i > 0 {
			elem = typ[:i]
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatNested(e, elem, true)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		// Go maps lose the STRUCT's field order; sorted keys are at least stable.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = "'" + k + "': " + formatNested(x[k], "", true)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case duckdb.OrderedMap:
		keys, vals := x.Keys(), x.Values()
		parts := make([]string, len(keys))
		for i := range keys {
			parts[i] = formatNested(keys[i], "", true) + "=" + formatNested(vals[i], "", true)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// formatFloat gives the shortest decimal that round-trips, in plain
// notation for everyday magnitudes (85.2, not 8.52e+01).
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	a := math.Abs(f)
	if a != 0 && (a < 1e-5 || a >= 1e15) {
		return strconv.FormatFloat(f, 'e', -1, bits)
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

func formatDecimal(d duckdb.Decimal) string {
	if d.Value == nil {
		return "NULL"
	}
	neg := d.Value.Sign() < 0
	digits := new(big.Int).Abs(d.Value).String()
	scale := int(d.Scale)
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

func formatTime(t time.Time, typ string) string {
	switch {
	case typ == "DATE":
		return t.Format("2006-01-02")
	case strings.HasPrefix(typ, "TIME") && !strings.HasPrefix(typ, "TIMESTAMP"):
		if t.Nanosecond() != 0 {
			return t.Format("15:04:05.999999")
		}
		return t.Format("15:04:05")
	case strings.Contains(typ, "TIME ZONE") || typ == "TIMESTAMPTZ":
		return t.Format("2006-01-02 15:04:05.999999-07")
	default:
		return t.Format("2006-01-02 15:04:05.999999")
	}
}

func formatInterval(iv duckdb.Interval) string {
	var parts []string
	if y, m := iv.Months/12, iv.Months%12; y != 0 || m != 0 {
		if y != 0 {
			parts = append(parts, plural(int64(y), "year"))
		}
		if m != 0 {
			parts = append(parts, plural(int64(m), "month"))
		}
	}
	if iv.Days != 0 {
		parts = append(parts, plural(int64(iv.Days), "day"))
	}
	if iv.Micros != 0 || len(parts) == 0 {
		us := iv.Micros
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		}
		h, us := us/3_600_000_000, us%3_600_000_000
		m, us := us/60_000_000, us%60_000_000
		s, us := us/1_000_000, us%1_000_000
		t := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, s)
		if us != 0 {
			t += strings.TrimRight(fmt.Sprintf(".%06d", us), "0")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

func plural(n int64, unit string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// formatBlob escapes non-printable bytes as DuckDB does (\xAA).
func formatBlob(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\x%02X", c)
		}
	}
	return sb.String()
}

// jsonValue renders a value as a JSON token: numbers stay numbers,
// NaN and infinities (not valid JSON) become null.
func jsonValue(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint, *big.Int:
		return fmt.Sprint(x)
	case float32, float64:
		f := toFloat(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "null"
		}
		bits := 64
		if _, ok := x.(float32); ok {
			bits = 32
		}
		// 'g'-free shortest form keeps JSON readable; exponents are valid JSON.
		return formatFloat(f, bits)
	case duckdb.Decimal:
		if x.Value == nil {
			return "null"
		}
		return formatDecimal(x)
	case []any:
		elem := ""
		if i := strings.LastIndex(typ, "["); i > 0 {
			elem = typ[:i]
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = jsonValue(e, elem)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = jsonString(k) + ":" + jsonValue(x[k], "")
		}
		return "{" + strings.Join(parts, ",") + "}"
	case duckdb.OrderedMap:
		keys, vals := x.Keys(), x.Values()
		parts := make([]string, len(keys))
		for i := range keys {
			parts[i] = jsonString(formatNested(keys[i], "", false)) + ":" + jsonValue(vals[i], "")
		}
		return "{" + strings.Join(parts, ",") + "}"
	default:
		return jsonString(formatNested(v, strings.ToUpper(typ), false))
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// jsonString quotes s as a JSON string (strconv.Quote escapes differ from
// JSON's for some control and non-ASCII characters).
func jsonString(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x2028 || r == 0x2029 {
				fmt.Fprintf(&sb, `\u%04x`, r)
			} else {
				sb.WriteRune(r)
			}
		}
	}
	sb.WriteByte('"')
	return sb.String()
}
