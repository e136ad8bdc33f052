// Command parley is the client of one device: identity and meeting
// commands, and (later) the call engine and the local web UI.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/parleynet/parley/client/chain"
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		if errors.Is(err, chain.ErrUnreachable) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

// exitError carries a specific exit code (e.g. audit findings).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
