package webui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parleynet/parley/client/chain"
)

func TestCheckSetup(t *testing.T) {
	ok := setupIn{Mode: "register", User: "gina", Device: "laptop", Passphrase: "correct horse", Passphrase2: "correct horse"}
	if err := checkSetup(ok); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	for name, c := range map[string]struct {
		mod  func(*setupIn)
		want string
	}{
		"unknown mode":        {func(m *setupIn) { m.Mode = "reset" }, "unknown first-run mode"},
		"passphrases differ":  {func(m *setupIn) { m.Passphrase2 = "correct horsf" }, "passphrases differ"},
		"short passphrase":    {func(m *setupIn) { m.Passphrase, m.Passphrase2 = "short", "short" }, "at least 8"},
		"bad user ID":         {func(m *setupIn) { m.User = "Gi" }, "user ID"},
		"bad device name":     {func(m *setupIn) { m.Device = "my laptop" }, "device name"},
		"link with a bad ID":  {func(m *setupIn) { m.Mode, m.User = "link", "a/b" }, "user ID"},
		"empty device name":   {func(m *setupIn) { m.Device = "" }, "device name"},
		"empty passphrase":    {func(m *setupIn) { m.Passphrase, m.Passphrase2 = "", "" }, "at least 8"},
		"only one passphrase": {func(m *setupIn) { m.Passphrase2 = "" }, "passphrases differ"},
	} {
		m := ok
		c.mod(&m)
		if err := checkSetup(m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}

func TestSetupErrorWords(t *testing.T) {
	m := setupIn{User: "gina"}
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"taken":       {fmt.Errorf("%w: gina is registered already", errUserTaken), `"gina" is taken`},
		"taken late":  {fmt.Errorf("%w: user already registered: gina", chain.ErrTxFailed), "just taken"},
		"unreachable": {fmt.Errorf("reading: %w", chain.ErrUnreachable), "chain is unreachable"},
		"no grant":    {fmt.Errorf("%w: %w: fee-grant not found", chain.ErrTxFailed, chain.ErrFeeGrant), "No one pays"},
		"no account":  {fmt.Errorf("%w: addr", chain.ErrAccountUnknown), "No one pays"},
		"cancelled":   {context.Canceled, "cancelled"},
		"other":       {errors.New("disk full"), "disk full"},
	} {
		if got := setupError(c.err, m); !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q in it", name, got, c.want)
		}
	}
}
