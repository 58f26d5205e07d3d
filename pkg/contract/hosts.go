package contract

// HostService is the micro service every host instance registers, with
// metadata host, instance, providers (comma-separated) and
// default_provider.
const HostService = "peon-host"

// HostStatusSubject is the subject of one host instance's status endpoint;
// id tells the instances of a name apart.
func HostStatusSubject(host, id string) string { return "peon.host." + host + "." + id + ".status" }

// HostStatus is what a host instance's status endpoint answers (and its
// micro stats data): whether it is the active instance of its name, and
// the turns it runs.
type HostStatus struct {
	Host     string        `json:"host"`
	Active   bool          `json:"active"`
	Sessions []HostSession `json:"sessions"`
}

// HostSession is a turn a host runs.
type HostSession struct {
	ProjectID string `json:"project_id"`
	ThreadID  string `json:"thread_id"`
	TurnID    string `json:"turn_id"`
	Provider  string `json:"provider"`
}
