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
}

var fieldSets sync.Map // reflect.Type -> *fieldSet

// fieldsOf reads the json tags (which the MessagePack codec uses too) and
// the `required:"true"` marks of a struct type, once per type.
func fieldsOf(t reflect.Type) *fieldSet {
	if fs, ok := fieldSets.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{known: map[string]bool{"type": true}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fs.known[name] = true
		if f.Tag.Get("required") == "true" {
			fs.required = append(fs.required, name)
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

// decodeStrict decodes one wire object into v (a pointer to a struct),
// refusing unknown fields and missing required ones. The MessagePack input
// must have passed checkMsgpack.
func decodeStrict(enc Encoding, data []byte, v any, what, wantType string) error {
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
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	dec.SetCustomStructTag("json")
	dec.UseLooseInterfaceDecoding(true)
	return dec.Decode(v)
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
