package odata

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Quote returns s as a filter string literal: in single quotes, with each
// quote inside doubled:
//
//	Quote("it's") // 'it''s'
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Format builds a filter from a template, the safe way to put untrusted values
// in a filter. Each {} in template is replaced by the next argument written
// as a literal: a string is quoted (see Quote); an integer is written as it
// is; a float is written as a whole number (2.0 is written 2); a bool is
// true or false; nil is null. {{ and }} stand for literal braces.
//
// It is an error when an argument has another type, or is a number the
// filter language cannot express: filters have only whole numbers from
// math.MinInt64 to math.MaxInt64, so a float with a fraction (1.5), NaN, an
// infinity, an unsigned integer above math.MaxInt64, and a float beyond
// ±2^53 (where floats no longer hold every whole number, so 2^63 may not be
// the number meant) are refused. It is also an error when the counts of
// placeholders and arguments differ, or when a {} sits inside a quoted string
// of the template ('{}'), since Format adds the quotes itself.
//
//	Format("userId eq {} and {} in groups", "a'b", "chat")
//	// userId eq 'a''b' and 'chat' in groups
func Format(template string, args ...any) (string, error) {
	var b strings.Builder
	used := 0
	inString := false
	for i := 0; i < len(template); i++ {
		c := template[i]
		switch {
		case c == '\'':
			inString = !inString // a doubled quote toggles twice
			b.WriteByte(c)
		case c == '{' && i+1 < len(template) && template[i+1] == '{',
			c == '}' && i+1 < len(template) && template[i+1] == '}':
			b.WriteByte(c)
			i++
		case c == '{' && i+1 < len(template) && template[i+1] == '}':
			if inString {
				return "", fmt.Errorf("filter template: the {} at position %d is inside a quoted string; write {} without quotes, the value is quoted for you", i+1)
			}
			if used == len(args) {
				return "", fmt.Errorf("filter template has more {} placeholders than the %d values given", len(args))
			}
			literal, err := formatValue(args[used])
			if err != nil {
				return "", fmt.Errorf("filter template: value %d: %w", used+1, err)
			}
			b.WriteString(literal)
			used++
			i++
		case c == '{' || c == '}':
			return "", fmt.Errorf("filter template: lone '%c' at position %d; write {} for a value, or %c%c for a literal %c", c, i+1, c, c, c)
		default:
			b.WriteByte(c)
		}
	}
	if used < len(args) {
		return "", fmt.Errorf("filter template has %d {} placeholders but %d values were given", used, len(args))
	}
	return b.String(), nil
}

// formatValue writes one Format argument as a filter literal.
func formatValue(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "null", nil
	case string:
		return Quote(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.FormatInt(int64(v), 10), nil
	case int8:
		return strconv.FormatInt(int64(v), 10), nil
	case int16:
		return strconv.FormatInt(int64(v), 10), nil
	case int32:
		return strconv.FormatInt(int64(v), 10), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint:
		return formatUint(uint64(v))
	case uint8:
		return strconv.FormatUint(uint64(v), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(v), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(v), 10), nil
	case uint64:
		return formatUint(v)
	case float32:
		return formatFloat(float64(v))
	case float64:
		return formatFloat(v)
	}
	return "", fmt.Errorf("cannot put a %T in a filter; use a string, number, boolean or nil", v)
}

// maxExactFloat is 2^53: up to it a float64 holds every whole number.
const maxExactFloat = 1 << 53

// formatUint writes u, which must fit an int64 as filter integers do.
func formatUint(u uint64) (string, error) {
	if u > math.MaxInt64 {
		return "", fmt.Errorf("number %d cannot be put in a filter: filter numbers are whole numbers from %d to %d", u, int64(math.MinInt64), int64(math.MaxInt64))
	}
	return strconv.FormatUint(u, 10), nil
}

// formatFloat writes a whole float within ±2^53 as an integer, and refuses
// any other: the filter language has no fractions, and beyond 2^53 a float
// may not be the whole number the caller computed.
func formatFloat(f float64) (string, error) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "", fmt.Errorf("number %v cannot be put in a filter; it must be finite", f)
	case f != math.Trunc(f):
		return "", fmt.Errorf("number %v cannot be put in a filter: filter numbers are whole numbers, with no fraction", f)
	case math.Abs(f) > maxExactFloat:
		return "", fmt.Errorf("number %v cannot be put in a filter exactly: beyond ±2^53 (%d) a floating-point number does not hold every whole number; pass an int64", f, int64(maxExactFloat))
	}
	return strconv.FormatInt(int64(f), 10), nil // -0 is written 0
}
