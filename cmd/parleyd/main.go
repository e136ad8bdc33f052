// Command parleyd is Parley's node: the chain (x/identity, x/meeting) on
// CometBFT, plus the off-chain services every node offers.
package main

import (
	"fmt"
	"os"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/parleynet/parley/app"
)

func main() {
	if err := svrcmd.Execute(NewRootCmd(), "PARLEYD", app.DefaultNodeHome); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
