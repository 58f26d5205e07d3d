package host_test

import (
	"strings"
	"testing"

	"github.com/peonhq/peon/services/host"
)

func TestParseProvider(t *testing.T) {
	t.Setenv("AGENT_HOME", "/opt/agent")
	cases := []struct {
		in   string
		want host.ProviderSpec
	}{
		{"cc=claude", host.ProviderSpec{Name: "cc", Kind: "claude"}},
		{"cx=codex:codex app-server -c 'model=\"o3\"'", host.ProviderSpec{Name: "cx", Kind: "codex", Argv: []string{"codex", "app-server", "-c", `model="o3"`}}},
		{"s=exec:$AGENT_HOME/run \"two words\" a\\ b", host.ProviderSpec{Name: "s", Kind: "exec", Argv: []string{"/opt/agent/run", "two words", "a b"}}},
		{"sim=simulator", host.ProviderSpec{Name: "sim", Kind: "simulator"}},
	}
	for _, c := range cases {
		got, err := host.ParseProvider(c.in)
		if err != nil || got.Name != c.want.Name || got.Kind != c.want.Kind || strings.Join(got.Argv, "|") != strings.Join(c.want.Argv, "|") {
			t.Errorf("ParseProvider(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"noequals", "=claude", "x=robot", "x=exec", "x=simulator:prog", "x=exec:'unclosed", "bad.name=claude"} {
		if _, err := host.ParseProvider(bad); err == nil {
			t.Errorf("ParseProvider(%q) accepted", bad)
		}
	}
}

// Validate names every problem at once; the defaults with a name are valid.
func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := host.DefaultConfig()
	cfg.Name = "local"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	err := host.Config{Name: "a.b", DefaultProvider: "ghost", LeaseTTL: -1, StopGrace: -1, Providers: []host.ProviderSpec{
		{Name: "x", Kind: "simulator"}, {Name: "x", Kind: "simulator"}, {Name: "external", Kind: "exec", Argv: []string{"sh"}},
	}}.Validate()
	for _, want := range []string{`host name "a.b"`, `default provider "ghost"`, "lease TTL", "stop grace", `provider "x" is configured twice`, `"external" is reserved`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// Any flag value parses to a valid spec or a clear error, never a panic;
// a parsed spec prints as a flag that parses back to the same name and kind.
func FuzzParseProvider(f *testing.F) {
	for _, s := range []string{"cc=claude", "s=exec:sh -c 'echo hi'", "x=exec:\"unclosed", "=", "a=b:c", "s=exec:$HOME/x ${A:-b} ~/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := host.ParseProvider(s)
		if err != nil {
			return
		}
		if spec.Name == "" || spec.Kind == "" || (spec.Kind == host.KindExec && len(spec.Argv) == 0) {
			t.Fatalf("accepted %q as %+v", s, spec)
		}
		cfg := host.Config{Name: "h", Providers: []host.ProviderSpec{spec}}
		if spec.Name != host.External || spec.Kind == host.KindExternal {
			if err := cfg.Validate(); err != nil {
				t.Fatalf("parsed %q to %+v, which does not validate: %v", s, spec, err)
			}
		}
	})
}
