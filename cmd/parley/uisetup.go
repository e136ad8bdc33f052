package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/org"
	"github.com/parleynet/parley/client/verify"
)

// uiSetup lets the page create this client's first device key
// (webui.Setup), in the same keystore and format as `parley device init`.
type uiSetup struct {
	st    *keystore.Store
	known identity.Known
}

func (s uiSetup) NewKey(user, device string, pass []byte) (meeting.Device, func(), error) {
	key, err := s.st.Create(user, device, pass, keystore.CreateOptions{})
	clear(pass)
	if err != nil {
		return meeting.Device{}, nil, err
	}
	if err := s.known.Add(user, device, key.PublicKey(), "created"); err != nil {
		key.Close()
		_ = s.st.Delete(user, device)
		return meeting.Device{}, nil, err
	}
	return meeting.Device{UserID: user, DeviceID: device, Key: key}, func() { key.Close() }, nil
}

func (s uiSetup) DeleteKey(user, device string) error { return s.st.Delete(user, device) }

func (s uiSetup) Remember(user, device string, pub []byte, how string) error {
	return s.known.Add(user, device, pub, how)
}

// uiPayer gives each device signed in to the page a chain client that
// pays with the device's own account (webui.PayWith): its fees paid by
// --fee-granter's grant, or, with --org on a localnet, by a grant the
// client signs itself with the organisation's keyring account. That is a
// demo convenience: in a real organisation an admin runs `parley org
// grant` and the org's key is nowhere near people's devices.
type uiPayer struct {
	g   *globals
	org string // keyring account of the organisation ("" unless --org)

	mu   sync.Mutex
	orgc *verify.Client
}

func (p *uiPayer) orgChain() (*verify.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.orgc == nil {
		c, err := p.g.openChain(p.org, nil, "")
		if err != nil {
			return nil, fmt.Errorf("organisation account %q (--org): %w", p.org, err)
		}
		p.orgc = c
	}
	return p.orgc, nil
}

func (p *uiPayer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.orgc != nil {
		_ = p.orgc.Close()
	}
}

// Pay returns the chain client for d's own account, once a fee grant (or
// the account's own tokens) can pay for its transactions.
func (p *uiPayer) Pay(ctx context.Context, d meeting.Device, progress func(string)) (*verify.Client, error) {
	key, ok := d.Key.(*keystore.DeviceKey)
	if !ok {
		return nil, errors.New("the device key is not from this client's keystore")
	}
	acct, err := key.AccountKey()
	if err != nil {
		return nil, err
	}
	addr := sdk.AccAddress(acct.PubKey().Address()).String()
	granter := p.g.feeGranter
	if p.org != "" {
		orgc, err := p.orgChain()
		if err != nil {
			return nil, err
		}
		granter = orgc.Account()
		has, err := org.Has(ctx, orgc.QueryConn(), granter, addr)
		if err != nil {
			return nil, err
		}
		if !has {
			progress(fmt.Sprintf("the organisation (%s) grants fees to this device's account %s", p.org, addr))
			if _, err := org.Give(ctx, orgc, addr, org.Grant{}); err != nil {
				return nil, fmt.Errorf("granting fees from %s: %w", p.org, err)
			}
		}
	}
	progress("connecting as this device's account " + addr)
	pc, err := p.g.openChain("", acct, granter)
	if err != nil {
		return nil, err
	}
	if err := canPay(ctx, pc, granter, addr); err != nil {
		_ = pc.Close()
		return nil, err
	}
	return pc, nil
}

// canPay checks that transactions of addr will be paid: by granter's
// grant, or else by the account itself, which must then be on chain.
func canPay(ctx context.Context, pc *verify.Client, granter, addr string) error {
	if granter != "" {
		has, err := org.Has(ctx, pc.QueryConn(), granter, addr)
		if err != nil {
			return err
		}
		if !has {
			return fmt.Errorf("%w: %s has granted no fees to this device's account %s: ask your organisation's admin to run `parley org grant %s`", chain.ErrFeeGrant, granter, addr, addr)
		}
		return nil
	}
	_, err := authtypes.NewQueryClient(pc.QueryConn()).Account(ctx, &authtypes.QueryAccountRequest{Address: addr})
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("%w: this device's account %s holds no tokens and no organisation pays its fees: have an admin run `parley org grant %s`, then start `parley ui --fee-granter ORG-ADDRESS` (on a localnet: --org org)", chain.ErrAccountUnknown, addr, addr)
	}
	return err
}

// payingLine tells the person running `parley ui` without --from who
// pays the devices' fees.
func payingLine(orgAccount, granter string) string {
	switch {
	case orgAccount != "":
		return fmt.Sprintf("Each device pays with its own account; the organisation account %q grants it fees (a localnet convenience: --org).", orgAccount)
	case granter != "":
		return fmt.Sprintf("Each device pays with its own account, its fees paid by %s's grant (an admin runs `parley org grant` for each device).", granter)
	}
	return "Each device pays with its own account, and no organisation pays its fees: a new device needs `parley org grant ADDRESS` by an admin and --fee-granter, or start with --from ACCOUNT."
}
