package domain

import "strings"

// decideConfigureThread changes the settings that are given and differ from
// the thread's: one ThreadConfigured with only those, or no events at all.
func decideConfigureThread(c ConfigureThread, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	if c.Provider != nil {
		if err := checkProvider(*c.Provider); err != nil {
			return nil, err
		}
	}
	if c.RuntimeMode != nil {
		if err := checkRuntimeMode(*c.RuntimeMode); err != nil {
			return nil, err
		}
	}
	if t.Status.busy() {
		// The agent runs with the settings its turn started with; changing
		// them under it would make the record say what is not true.
		return nil, Errorf(CodeThreadBusy, "thread %s has turn %s in flight", t.ID, t.ActiveTurnID)
	}
	e := ThreadConfigured{ThreadID: t.ID}
	changed := false
	if c.Title != nil {
		if title := strings.TrimSpace(*c.Title); title != t.Title {
			e.Title, changed = &title, true
		}
	}
	if c.Model != nil && *c.Model != t.Model {
		e.Model, changed = ptr(*c.Model), true
	}
	if c.Provider != nil && *c.Provider != t.Provider {
		e.Provider, changed = ptr(*c.Provider), true
	}
	if c.RuntimeMode != nil && *c.RuntimeMode != t.RuntimeMode {
		e.RuntimeMode, changed = ptr(*c.RuntimeMode), true
	}
	if !changed {
		return nil, nil
	}
	return []Event{e}, nil
}

// ptr returns a pointer to a copy of v, so an event shares nothing with the
// command it was decided from.
func ptr[T any](v T) *T { return &v }

// checkProvider accepts an empty provider (the host's default) or a name
// shaped like an id: hosts key their configured providers by it.
func checkProvider(name string) error {
	if name == "" {
		return nil
	}
	return checkID("provider", name)
}

// checkRuntimeMode accepts the two runtime modes.
func checkRuntimeMode(mode RuntimeMode) error {
	if !mode.valid() {
		return Errorf(CodeInvalidCommand, "runtime_mode %q is not %s or %s", mode, RuntimeApprovalRequired, RuntimeFullAccess)
	}
	return nil
}
