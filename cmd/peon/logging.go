package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"time"

	"github.com/lmittmann/tint"
)

// newLogger returns JSON or text (tint) logs on w. "auto" is text on a
// terminal and JSON otherwise; colour only where asked for.
func newLogger(w io.Writer, format string, level slog.Level, colour bool) *slog.Logger {
	if format == "auto" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(fieldsHandler{tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly, NoColor: !colour})})
}

// fieldsHandler renders struct and map values as groups of fields, so a
// text log line reads stats.applied=3 rather than stats={Applied:3 ...}:
// services log their counters as they are, and the JSON handler already
// renders them as objects.
type fieldsHandler struct{ slog.Handler }

func (h fieldsHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(flatten(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h fieldsHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	flat := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		flat[i] = flatten(a)
	}
	return fieldsHandler{h.Handler.WithAttrs(flat)}
}

func (h fieldsHandler) WithGroup(name string) slog.Handler {
	return fieldsHandler{h.Handler.WithGroup(name)}
}

// flatten turns an attribute holding a struct or a map into a group of
// its JSON fields; anything else passes unchanged.
func flatten(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		attrs := v.Group()
		flat := make([]slog.Attr, len(attrs))
		for i, g := range attrs {
			flat[i] = flatten(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(flat...)}
	}
	if v.Kind() != slog.KindAny {
		return slog.Attr{Key: a.Key, Value: v}
	}
	x := v.Any()
	if _, isErr := x.(error); isErr {
		return a
	}
	t := reflect.TypeOf(x)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || (t.Kind() != reflect.Struct && t.Kind() != reflect.Map) || t == reflect.TypeOf(time.Time{}) {
		return a
	}
	b, err := json.Marshal(x)
	if err != nil {
		return a
	}
	var fields map[string]any
	if json.Unmarshal(b, &fields) != nil {
		return a
	}
	return slog.Attr{Key: a.Key, Value: slog.GroupValue(groupOf(fields)...)}
}

// groupOf renders decoded JSON fields as attributes, nested objects as
// groups, in key order.
func groupOf(fields map[string]any) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(fields))
	for _, k := range sortedKeys(fields) {
		switch v := fields[k].(type) {
		case map[string]any:
			attrs = append(attrs, slog.Attr{Key: k, Value: slog.GroupValue(groupOf(v)...)})
		default:
			attrs = append(attrs, slog.Any(k, v))
		}
	}
	return attrs
}
