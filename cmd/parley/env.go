package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
)

// chain connects to the nodes, verifying what they say against the trust
// anchor of the chain (see trust.go); with --insecure-trust-node it
// trusts them, and says so on every run.
func (g *globals) chain(needAccount bool) (*verify.Client, error) {
	if needAccount && g.from == "" {
		return nil, errors.New("this command sends a transaction: set --from (or PARLEY_FROM) to a keyring account")
	}
	from := g.from
	if !needAccount {
		from = ""
	}
	return g.chainAs(from)
}

// chainAs is chain paying with the keyring account from ("" for none).
func (g *globals) chainAs(from string) (*verify.Client, error) {
	return g.openChain(from, nil, g.feeGranter)
}

// chainForDevice is chain paying with the keyring account --from when it
// is set, and otherwise with the account key derived from the device key
// (keystore.DeviceKey.AccountKey), whose fees an organisation pays
// through --fee-granter.
func (g *globals) chainForDevice(key *keystore.DeviceKey) (*verify.Client, error) {
	if g.from != "" {
		return g.openChain(g.from, nil, g.feeGranter)
	}
	acct, err := key.AccountKey()
	if err != nil {
		return nil, err
	}
	return g.openChain("", acct, g.feeGranter)
}

// chainForMeetingDevice is chainForDevice for a device loaded by
// g.device: without --from, a meeting's transactions (a join request, a
// leader's epochs) are paid with the device's own account, as the page
// pays them.
func (g *globals) chainForMeetingDevice(d meeting.Device) (*verify.Client, error) {
	if k, ok := d.Key.(*keystore.DeviceKey); ok && g.from == "" {
		return g.chainForDevice(k)
	}
	return g.chain(true)
}

// openChain connects paying with the keyring account from or the
// in-memory account key acct (neither: read only), its fees paid by
// granter's fee grant when granter is set.
func (g *globals) openChain(from string, acct cryptotypes.PrivKey, granter string) (*verify.Client, error) {
	cfg := verify.Config{
		Chain: chain.Config{
			Node: g.node, ChainID: g.chainID, KeyringDir: g.keyringDir,
			KeyringBackend: g.keyringBackend, From: from, AccountKey: acct, Fees: g.fees,
			FeeGranter: granter,
			OnFailover: func(from, to string, err error) {
				msg := fmt.Sprintf("chain node %s stopped answering (%v); using %s", from, err, to)
				if errors.Is(err, chain.ErrBadAnswer) {
					msg = fmt.Sprintf("chain node %s gave an answer that does not verify (%v); using %s", from, err, to)
				}
				g.chainEvent(msg)
			},
		},
		OnNotice: func(s string) { g.chainEvent(s) },
	}
	if g.insecure {
		fmt.Fprintln(os.Stderr, insecureWarning)
		cfg.Unverified = true
	} else {
		st, err := g.trustState()
		if err != nil {
			return nil, err
		}
		cfg.State = st
		cfg.Save = func(st verify.State) error { return verify.SaveState(g.trustDir(), st) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return verify.Open(ctx, cfg)
}

// chainEvent reports what the chain client says on stderr (and in the
// page, for parley ui).
func (g *globals) chainEvent(msg string) {
	fmt.Fprintln(os.Stderr, "chain: "+msg)
	if g.onChainEvent != nil {
		g.onChainEvent(msg)
	}
}

const insecureWarning = "WARNING: --insecure-trust-node: nothing the chain nodes say is verified. A lying node can hand out its own\n" +
	"keys and rosters and read your meetings. Use this flag for debugging only."

func (g *globals) store() (*keystore.Store, error) {
	return keystore.Open(filepath.Join(g.home, "keys"))
}

// contacts remembers the devices of the people this device met.
func (g *globals) contacts() identity.Contacts {
	return identity.NewContacts(filepath.Join(g.home, "contacts"))
}

func (g *globals) known() identity.Known {
	return identity.NewKnown(filepath.Join(g.home, "known"))
}

// passphrase reads the device key passphrase from --passphrase-file,
// PARLEY_PASSPHRASE, or the terminal; empty when none is available.
func (g *globals) passphrase(prompt string, confirm bool) ([]byte, error) {
	if g.passphraseFile != "" {
		bz, err := os.ReadFile(g.passphraseFile)
		if err != nil {
			return nil, fmt.Errorf("passphrase file: %w", err)
		}
		return bytes.TrimRight(bz, "\r\n"), nil
	}
	if v := os.Getenv("PARLEY_PASSPHRASE"); v != "" {
		return []byte(v), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, nil
	}
	fmt.Fprint(os.Stderr, prompt)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil || !confirm {
		return p, err
	}
	fmt.Fprint(os.Stderr, "Repeat the passphrase: ")
	again, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p, again) {
		return nil, errors.New("the passphrases differ")
	}
	return p, nil
}

// loadKey opens this device's key for userID/deviceID.
func (g *globals) loadKey(userID, deviceID string) (*keystore.DeviceKey, error) {
	st, err := g.store()
	if err != nil {
		return nil, err
	}
	pass, err := g.passphrase(fmt.Sprintf("Passphrase for device key %s/%s: ", userID, deviceID), false)
	if err != nil {
		return nil, err
	}
	key, err := st.Load(userID, deviceID, pass)
	if errors.Is(err, keystore.ErrEmptyPassphrase) {
		return nil, fmt.Errorf("device key %s/%s is encrypted: give its passphrase with --passphrase-file or PARLEY_PASSPHRASE", userID, deviceID)
	}
	return key, err
}
