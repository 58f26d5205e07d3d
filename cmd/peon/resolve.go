package main

import (
	"strings"

	"github.com/alecthomas/kong"
)

// envResolver gives a flag that is not on the command line the value of
// the environment variable its envvar tag names, read through getenv (so
// tests inject the environment rather than set the process's).
func envResolver(getenv func(string) string) kong.Resolver {
	return kong.ResolverFunc(func(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
		name := flag.Tag.Get("envvar")
		if name == "" {
			return nil, nil
		}
		if v := getenv(name); v != "" {
			return v, nil
		}
		return nil, nil
	})
}

// helpValue renders a flag's help with its default and its environment
// variable, the same way for every flag.
func helpValue(v *kong.Value) string {
	help := strings.TrimSuffix(v.Help, ".")
	var notes []string
	if v.HasDefault && v.Default != "" && !v.IsBool() {
		notes = append(notes, "default "+v.Default)
	}
	if env := v.Tag.Get("envvar"); env != "" {
		notes = append(notes, "$"+env)
	}
	if len(notes) > 0 {
		help += " (" + strings.Join(notes, "; ") + ")"
	}
	return help
}
