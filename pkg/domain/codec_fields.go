package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// fieldSet is what a wire struct accepts: its field names and which of them
// must be present.
type fieldSet struct {
	known    map[string]bool
	required []string
	// index maps a field name to its struct field index.
	index map[string]int
	// requiredIndex lists the indexes of the required fields.
	requiredIndex []int
	// ids lists the id fields: strings whose wire name ends in "_id".
	ids []idField
}

// idField is one id field of a wire struct.
type idField struct {
	name  string
	index int
}

var fieldSets sync.Map // reflect.Type -> *fieldSet

// fieldsOf reads the json tags (which the MessagePack codec uses too) and
// the `required:"true"` marks of a struct type, once per type.
func fieldsOf(t reflect.Type) *fieldSet {
	if fs, ok := fieldSets.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{known: map[string]bool{"type": true}, index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fs.known[name] = true
		fs.index[name] = i
		if strings.HasSuffix(name, "_id") && f.Type.Kind() == reflect.String {
			fs.ids = append(fs.ids, idField{name: name, index: i})
		}
		if f.Tag.Get("required") == "true" {
			fs.required = append(fs.required, name)
			fs.requiredIndex = append(fs.requiredIndex, i)
		}
	}
	fieldSets.Store(t, fs)
	return fs
}

// checkKeys rejects unknown fields, missing required ones, and a type tag
// that disagrees with the expected one.
func (fs *fieldSet) checkKeys(what, wantType string, keys map[string]bool, typeTag string) error {
	for k := range keys {
		if !fs.known[k] {
			return Errorf(CodeBadRequest, "%s: unknown field %q", what, k)
		}
	}
	for _, k := range fs.required {
		if !keys[k] {
			return Errorf(CodeBadRequest, "%s: missing required field %q", what, k)
		}
	}
	if typeTag != "" && wantType != "" && typeTag != wantType {
		return Errorf(CodeBadRequest, "%s: type %q does not match %q", what, typeTag, wantType)
	}
	return nil
}

// checkIDs refuses an id field that is present but not a valid id. An id
// given as "" (or null) is present: it is never taken for an absent one,
// which the decider would derive or assign.
func (fs *fieldSet) checkIDs(what string, rv reflect.Value, present func(field int) bool) error {
	for _, f := range fs.ids {
		if !present(f.index) {
			continue
		}
		if id := rv.Field(f.index).String(); !ValidID(id) {
			return Errorf(CodeInvalidCommand, "%s: %s %q is not a valid id (1-%d characters of A-Z a-z 0-9 _ -; leave an optional id out to have one assigned)",
				what, f.name, id, MaxIDLength)
		}
	}
	return nil
}

// decodeStrict decodes one wire object into v (a pointer to a struct),
// refusing unknown fields and missing required ones, and, with ids, id
// fields given that are not valid ids. The MessagePack input must have
// passed checkMsgpack.
func decodeStrict(enc Encoding, data []byte, v any, what, wantType string, ids bool) error {
	if enc == MessagePack {
		return decodeStructMsgpack(newDecoder(data), v, what, wantType, ids)
	}
	fs := fieldsOf(reflect.TypeOf(v).Elem())
	keys, tag, err := objectKeys(enc, data)
	if err != nil {
		return Errorf(CodeBadRequest, "%s: %v", what, err)
	}
	if err := fs.checkKeys(what, wantType, keys, tag); err != nil {
		return err
	}
	if err := unmarshal(enc, data, v); err != nil {
		var nested *DeciderError
		if errors.As(err, &nested) {
			return nested // already says what was wrong, and where
		}
		return Errorf(CodeBadRequest, "%s: %v", what, cleanErr(err))
	}
	if ids {
		rt := reflect.TypeOf(v).Elem()
		return fs.checkIDs(what, reflect.ValueOf(v).Elem(), func(i int) bool {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			return keys[name]
		})
	}
	return nil
}

// objectKeys returns the keys of a wire object and its "type" value, if any.
func objectKeys(enc Encoding, data []byte) (map[string]bool, string, error) {
	keys := map[string]bool{}
	var tag string
	if enc == JSON {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, "", cleanErr(err)
		}
		if raw == nil {
			return nil, "", errNotObject
		}
		for k := range raw {
			keys[k] = true
		}
		if t, ok := raw["type"]; ok {
			if err := json.Unmarshal(t, &tag); err != nil {
				return nil, "", errTypeNotString
			}
		}
		return keys, tag, nil
	}
	var raw map[string]msgpack.RawMessage
	if err := msgpack.Unmarshal(data, &raw); err != nil {
		return nil, "", cleanErr(err)
	}
	if raw == nil {
		return nil, "", errNotObject
	}
	for k := range raw {
		keys[k] = true
	}
	if t, ok := raw["type"]; ok {
		if err := msgpack.Unmarshal(t, &tag); err != nil {
			return nil, "", errTypeNotString
		}
	}
	return keys, tag, nil
}

type codecError string

func (e codecError) Error() string { return string(e) }

const (
	errNotObject     codecError = "body is not an object"
	errTypeNotString codecError = `field "type" is not a string`
)

// cleanErr strips library prefixes so error messages read as Peon's own.
func cleanErr(err error) error {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	msg = strings.TrimPrefix(msg, "msgpack: ")
	return codecError(msg)
}

func unmarshal(enc Encoding, data []byte, v any) error {
	if enc == JSON {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber() // keep free-form numbers exact; normalizeValue decides their type
		return dec.Decode(v)
	}
	return newDecoder(data).Decode(v)
}

func newDecoder(data []byte) *msgpack.Decoder {
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	dec.SetCustomStructTag("json")
	dec.UseLooseInterfaceDecoding(true)
	return dec
}

// decodeStructMsgpack decodes one MessagePack map from dec into the struct
// v points to, in a single pass: unknown keys and missing required fields
// are errors, a "type" key must equal wantType (when given). Nested values
// with their own decoders (provider event envelopes) decode from the same
// stream, so nothing is decoded twice.
func decodeStructMsgpack(dec *msgpack.Decoder, v any, what, wantType string, ids bool) error {
	rv := reflect.ValueOf(v).Elem()
	fs := fieldsOf(rv.Type())
	n, err := dec.DecodeMapLen()
	if err != nil {
		return Errorf(CodeBadRequest, "%s: %v", what, cleanErr(err))
	}
	if n < 0 {
		return Errorf(CodeBadRequest, "%s: %v", what, errNotObject)
	}
	seen := make([]bool, rv.NumField())
	for range n {
		key, err := dec.DecodeString()
		if err != nil {
			return Errorf(CodeBadRequest, "%s: field name: %v", what, cleanErr(err))
		}
		i, ok := fs.index[key]
		if !ok && key == "type" {
			tag, err := dec.DecodeString()
			if err != nil {
				return Errorf(CodeBadRequest, "%s: %v", what, errTypeNotString)
			}
			if wantType != "" && tag != wantType {
				return Errorf(CodeBadRequest, "%s: type %q does not match %q", what, tag, wantType)
			}
			continue
		}
		if !ok {
			return Errorf(CodeBadRequest, "%s: unknown field %q", what, key)
		}
		if err := dec.DecodeValue(rv.Field(i)); err != nil {
			var nested *DeciderError
			if errors.As(err, &nested) {
				return nested
			}
			return Errorf(CodeBadRequest, "%s: field %q: %v", what, key, cleanErr(err))
		}
		seen[i] = true
	}
	for k, i := range fs.requiredIndex {
		if !seen[i] {
			return Errorf(CodeBadRequest, "%s: missing required field %q", what, fs.required[k])
		}
	}
	if ids {
		return fs.checkIDs(what, rv, func(i int) bool { return seen[i] })
	}
	return nil
}

func marshal(enc Encoding, v any) ([]byte, error) {
	if enc == JSON {
		return json.Marshal(v)
	}
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	e.SetCustomStructTag("json")
	e.SetSortMapKeys(true)
	e.UseCompactInts(true)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
