package domain

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// normalizeMap brings a free-form value (a tool call's input) to one
// canonical Go form whichever encoding it came in: whole numbers that fit
// int64 become int64, other numbers float64, binary becomes string, and maps
// have string keys. So the same input decoded from MessagePack or from JSON
// gives equal values, and folding re-encoded events gives the same model.
func normalizeMap(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		nv, err := normalizeValue(v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", k, err)
		}
		out[k] = nv
	}
	return out, nil
}

func normalizeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, int64:
		return v, nil
	case []byte:
		return string(x), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, err
		}
		return normalizeFloat(f)
	case float64:
		return normalizeFloat(x)
	case float32:
		return normalizeFloat(float64(x))
	case int:
		return int64(x), nil
	case int8, int16, int32, uint8, uint16, uint32:
		return reflectInt(x), nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
		return float64(x), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ne, err := normalizeValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = ne
		}
		return out, nil
	case map[string]any:
		return normalizeMap(x)
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("map key of type %T (only string keys are accepted)", k)
			}
			m[ks] = e
		}
		return normalizeMap(m)
	}
	return nil, fmt.Errorf("value of type %T is not JSON-like", v)
}

func normalizeFloat(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v is not JSON-like", f)
	}
	if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 && !math.IsInf(f, 0) {
		return int64(f), nil
	}
	return f, nil
}

func reflectInt(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	}
	return 0
}
