package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// commandBody assembles a command's JSON body from the arguments after its
// name, in order:
//
//   - a JSON object read from standard input
//     @FILE         a JSON object read from FILE
//     {...}         a JSON object given inline
//     field=value   a field, converted to the field's type (repeat a list field
//     to add items; field=@FILE reads a text field from FILE)
//     field:=json   a field given as JSON
//
// Later arguments override earlier ones. The body is then checked against
// the command's fields: every unknown and every missing field is returned,
// in the contract's names.
func commandBody(spec commandSpec, args []string, stdin io.Reader) ([]byte, []error) {
	fields := map[string]any{}
	var errs []error
	for _, a := range args {
		if err := addArgument(spec, fields, a, stdin); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, checkFields(spec, fields)...)
	if len(errs) > 0 {
		return nil, errs
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, []error{err}
	}
	return body, nil
}

func addArgument(spec commandSpec, fields map[string]any, a string, stdin io.Reader) error {
	switch {
	case a == "-":
		return mergeObject(fields, "standard input", stdin)
	case strings.HasPrefix(a, "@"):
		f, err := os.Open(a[1:])
		if err != nil {
			return err
		}
		defer f.Close()
		return mergeObject(fields, a[1:], f)
	case strings.HasPrefix(strings.TrimSpace(a), "{"):
		return mergeObject(fields, "the JSON argument", strings.NewReader(a))
	}
	if k, v, ok := strings.Cut(a, ":="); ok && !strings.Contains(k, "=") {
		var x any
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			return fmt.Errorf("%s: not JSON: %v", k, err)
		}
		fields[k] = x
		return nil
	}
	k, v, ok := strings.Cut(a, "=")
	if !ok || k == "" {
		return fmt.Errorf("argument %q is not field=value, field:=json, -, @FILE or a JSON object", a)
	}
	f, known := spec.field(k)
	if !known {
		fields[k] = v // reported by checkFields, with a suggestion
		return nil
	}
	if strings.HasPrefix(v, "@") && f.Kind == "string" {
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		fields[k] = string(b)
		return nil
	}
	x, err := typedValue(f, v, fields[k])
	if err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	fields[k] = x
	return nil
}

// typedValue converts a field=value string to the field's kind; a list
// field grows by one item per argument.
func typedValue(f fieldSpec, v string, prev any) (any, error) {
	switch f.Kind {
	case "string":
		return v, nil
	case "bool":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", v)
		}
		return b, nil
	case "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	case "number":
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return n, nil
	case "list of strings":
		list, _ := prev.([]any)
		return append(slices.Clone(list), v), nil
	}
	var x any
	if err := json.Unmarshal([]byte(v), &x); err != nil {
		return nil, fmt.Errorf("an %s is given as JSON (%s:=…): %v", f.Kind, f.Name, err)
	}
	return x, nil
}

// mergeObject reads a JSON object and sets its fields.
func mergeObject(fields map[string]any, from string, r io.Reader) error {
	var obj map[string]any
	if err := json.NewDecoder(io.LimitReader(r, 16<<20)).Decode(&obj); err != nil {
		return fmt.Errorf("%s: not a JSON object: %v", from, err)
	}
	if obj == nil {
		return fmt.Errorf("%s: not a JSON object", from)
	}
	for k, v := range obj {
		fields[k] = v
	}
	return nil
}

// checkFields reports unknown fields (with the closest known one) and
// every missing required field, in one list.
func checkFields(spec commandSpec, fields map[string]any) []error {
	if !spec.known {
		return nil
	}
	var errs []error
	for _, k := range sortedKeys(fields) {
		if _, ok := spec.field(k); !ok && k != "type" {
			errs = append(errs, fmt.Errorf("unknown field %q%s", k, didYouMean(k, spec.fieldNames())))
		}
	}
	var missing []string
	for _, name := range spec.required() {
		if _, ok := fields[name]; !ok {
			missing = append(missing, name)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		errs = append(errs, fmt.Errorf("missing required field %s", missing[0]))
	default:
		errs = append(errs, fmt.Errorf("missing required fields %s", strings.Join(missing, ", ")))
	}
	return errs
}
