package main

import "flag"

// flagSet lets subcommands add their own flags to the shared setup.
type flagSet struct{ *flag.FlagSet }
