package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"
	"github.com/peonhq/peon/pkg/domain"
)

// direction says which way a type travels: inputs (commands, provider
// events, query requests) are decoded strictly by Peon — unknown fields
// are refused and required fields are the ones tagged required:"true" — so
// their schemas say the same; outputs (events, replies, records) may grow
// fields in later minor versions, so their schemas allow more.
type direction int

const (
	input direction = iota
	output
)

// catalog is every named schema of the contract, built from the Go types.
type catalog struct {
	r     *jsonschema.Reflector
	defs  map[string]*jsonschema.Schema
	types map[string]reflect.Type
	dirs  map[string]direction
}

var (
	providerEnvelopeType = reflect.TypeOf(domain.ProviderEventEnvelope{})
	eventInterfaceType   = reflect.TypeOf((*domain.Event)(nil)).Elem()
	rawJSONType          = reflect.TypeOf(json.RawMessage{})
)

func newCatalog() *catalog {
	c := &catalog{defs: map[string]*jsonschema.Schema{}, types: map[string]reflect.Type{}, dirs: map[string]direction{}}
	c.r = &jsonschema.Reflector{
		FieldNameTag:              "json",
		AllowAdditionalProperties: true,
		Anonymous:                 true,
		Mapper:                    c.mapType,
	}
	return c
}

// mapType describes the types the reflector cannot see through: a
// provider event envelope is one flat object of any provider event type
// with its "type" tag; an event inside a reply is the data of its type.
func (c *catalog) mapType(t reflect.Type) *jsonschema.Schema {
	switch t {
	case providerEnvelopeType:
		s := &jsonschema.Schema{Description: "a provider event: the fields of its type plus \"type\""}
		for _, tag := range domain.ProviderEventTypes() {
			s.OneOf = append(s.OneOf, &jsonschema.Schema{Ref: "#/$defs/" + providerEventName(tag)})
		}
		return s
	case eventInterfaceType:
		return &jsonschema.Schema{Type: "object", Description: "the event's data: the schema of its type (see \"type\")"}
	case rawJSONType:
		return &jsonschema.Schema{}
	}
	return nil
}

// add reflects v and every type it refers to into the catalog, under the
// Go type's name, and returns that name.
func (c *catalog) add(v any, dir direction) string {
	t := reflect.TypeOf(v)
	s := c.r.Reflect(v)
	root := s.Ref
	for name, def := range s.Definitions {
		c.put(name, def)
	}
	if root == "" {
		panic(fmt.Sprintf("apidoc: %s has no named schema", t))
	}
	name := strings.TrimPrefix(root, "#/$defs/")
	c.walk(t, dir)
	return name
}

func (c *catalog) put(name string, def *jsonschema.Schema) {
	if old, ok := c.defs[name]; ok {
		a, _ := json.Marshal(old)
		b, _ := json.Marshal(def)
		if !bytes.Equal(a, b) {
			panic("apidoc: two types are named " + name)
		}
		return
	}
	c.defs[name] = def
}

// walk records the Go type behind every named struct schema reached from t.
func (c *catalog) walk(t reflect.Type, dir direction) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(struct{}{}) || t.Name() == "" || t == providerEnvelopeType {
		return
	}
	if _, seen := c.types[t.Name()]; seen {
		return
	}
	if _, ok := c.defs[t.Name()]; !ok {
		return // described by the reflector natively (time.Time)
	}
	c.types[t.Name()], c.dirs[t.Name()] = t, dir
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			c.walk(f.Type, dir)
		}
	}
}

// idPattern is what every id accepts (docs/contract.md, Identifiers).
const idPattern = "^[A-Za-z0-9_-]{1,64}$"

// constrain adds to every field's schema the ranges the codec enforces:
// integer bounds by Go type, and the id alphabet for the id fields of inputs.
func (c *catalog) constrain() {
	for name, t := range c.types {
		def := c.defs[name]
		if def.Properties == nil {
			continue
		}
		for i := range t.NumField() {
			f := t.Field(i)
			jname, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			prop, ok := def.Properties.Get(jname)
			if !ok || prop == nil {
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.Uint64, reflect.Uint32, reflect.Uint:
				prop.Minimum = "0"
				prop.Maximum = json.Number(fmt.Sprint(uint64(1)<<(ft.Bits()-1)*2 - 1))
			case reflect.Int64, reflect.Int:
				prop.Minimum, prop.Maximum = "-9223372036854775808", "9223372036854775807"
			case reflect.String:
				// Inputs only: records also hold empty ids (no active turn)
				// and derived ones (<message_id>/thinking).
				if c.dirs[name] == input && (jname == "id" || strings.HasSuffix(jname, "_id")) && jname != "session_id" && ft.Name() == "string" {
					prop.Pattern = idPattern
				}
			}
		}
	}
}

// finish makes the input schemas say what the strict decoder accepts.
func (c *catalog) finish() {
	c.constrain()
	for name, t := range c.types {
		if c.dirs[name] != input {
			continue
		}
		def := c.defs[name]
		def.Required = nil
		for i := range t.NumField() {
			f := t.Field(i)
			jname, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if jname != "" && jname != "-" && f.Tag.Get("required") == "true" {
				def.Required = append(def.Required, jname)
			}
		}
		def.AdditionalProperties = jsonschema.FalseSchema
	}
	for _, tag := range domain.ProviderEventTypes() {
		def := c.defs[providerEventName(tag)]
		def.Properties.Set("type", &jsonschema.Schema{Type: "string", Const: tag})
		def.Required = append([]string{"type"}, def.Required...)
	}
}

// commandSchema is a command's schema: its fields, and the optional type
// tag (on peon.cmd.* the subject names the command).
func (c *catalog) commandSchema(commandType string) {
	def := c.defs[commandType]
	def.Properties.Set("type", &jsonschema.Schema{Type: "string", Const: commandType,
		Description: "optional; if present it must name this command"})
}

// document returns the schema named name as a standalone JSON Schema: the
// named schema at the root, with the definitions it reaches.
func (c *catalog) document(name, id string) map[string]any {
	defs := map[string]any{}
	c.reach(name, defs)
	root := defs[name].(map[string]any)
	delete(defs, name)
	out := map[string]any{"$schema": jsonschema.Version, "$id": id, "title": name}
	for k, v := range root {
		out[k] = v
	}
	if len(defs) > 0 {
		out["$defs"] = defs
	}
	return out
}

// reach adds name and every schema it refers to, as generic JSON, to out.
func (c *catalog) reach(name string, out map[string]any) {
	if _, done := out[name]; done {
		return
	}
	def, ok := c.defs[name]
	if !ok {
		panic("apidoc: no schema named " + name)
	}
	generic := toGeneric(def)
	out[name] = generic
	for _, ref := range refsIn(generic) {
		c.reach(strings.TrimPrefix(ref, "#/$defs/"), out)
	}
}

// names lists the catalog's schema names, sorted.
func (c *catalog) names() []string {
	out := make([]string, 0, len(c.defs))
	for n := range c.defs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func toGeneric(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := unmarshalExact(b, &m); err != nil {
		panic(err)
	}
	return m
}

func refsIn(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				out = append(out, s)
				continue
			}
			out = append(out, refsIn(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, refsIn(e)...)
		}
	}
	return out
}

// rebase rewrites #/$defs/ references to prefix (for the AsyncAPI and
// OpenAPI documents, whose schemas live under components).
func rebase(v any, prefix string) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	b = bytes.ReplaceAll(b, []byte(`"#/$defs/`), []byte(`"`+prefix))
	var out any
	if err := unmarshalExact(b, &out); err != nil {
		panic(err)
	}
	return out
}

// providerEventName is the schema name (the Go type's) of a provider event
// type tag: they differ for Error (ProviderError).
func providerEventName(tag string) string {
	pe, _ := domain.ZeroProviderEvent(tag)
	return reflect.TypeOf(pe).Name()
}

// unmarshalExact decodes JSON keeping numbers exact (2^64-1 is not a float).
func unmarshalExact(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
