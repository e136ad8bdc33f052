package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/spf13/cobra"

	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
)

// trustDir holds one trust state file per chain.
func (g *globals) trustDir() string { return filepath.Join(g.home, "trust") }

// trustState returns the trust state of the chain: the stored one, or the
// one --trust/PARLEY_TRUST sets (replacing a different stored anchor).
func (g *globals) trustState() (verify.State, error) {
	if g.chainID == "" {
		return verify.State{}, errors.New("no chain ID (set --chain-id or PARLEY_CHAIN_ID)")
	}
	stored, err := verify.LoadState(g.trustDir(), g.chainID)
	if err != nil && !errors.Is(err, verify.ErrNoAnchor) {
		return verify.State{}, err
	}
	if g.trust == "" && errors.Is(err, verify.ErrNoAnchor) && g.inviteTrust != "" {
		// First contact with this chain, by invite: trust what the
		// inviter's client trusts.
		a, perr := verify.ParseAnchor(g.chainID, g.inviteTrust)
		if perr != nil {
			return verify.State{}, fmt.Errorf("the invite's trust anchor: %w", perr)
		}
		fmt.Fprintf(os.Stderr, "no trust anchor stored for chain %s: trusting the invite's, %s (the inviter's client verifies from it)\n", g.chainID, a)
		return verify.State{Anchor: a, SetAt: time.Now()}, nil
	}
	if g.trust == "" {
		return stored, err
	}
	a, perr := verify.ParseAnchor(g.chainID, g.trust)
	if perr != nil {
		return verify.State{}, fmt.Errorf("--trust: %w", perr)
	}
	if err == nil && stored.Anchor.Height == a.Height && bytes.Equal(stored.Anchor.Hash, a.Hash) {
		return stored, nil
	}
	return verify.State{Anchor: a, SetAt: time.Now()}, nil
}

func newTrustCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "The chain's trust anchor: the header this client verifies everything from",
		Long: "Parley verifies every key and roster it reads with Merkle proofs against headers that the\n" +
			"chain's validators signed, starting from one header you trust: the anchor. Set it once per\n" +
			"chain with `parley trust init`, comparing the hash it prints with one from someone you trust\n" +
			"(a validator operator, or whoever invited you), or with --trust HEIGHT:HASH. Invites carry it.",
	}
	cmd.AddCommand(trustInitCmd(g), trustShowCmd(g))
	return cmd
}

func trustInitCmd(g *globals) *cobra.Command {
	var (
		yes    bool
		period time.Duration
		invite string
	)
	c := &cobra.Command{
		Use:   "init",
		Short: "Fetch the chain's newest header from a node, show its hash, and trust it once you confirm",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if invite != "" {
				if err := g.useInvite(invite, true); err != nil {
					return err
				}
			}
			if g.chainID == "" {
				return errors.New("no chain ID (set --chain-id or PARLEY_CHAIN_ID)")
			}
			ctx := cmd.Context()
			var a verify.Anchor
			if g.trust != "" {
				var err error
				if a, err = verify.ParseAnchor(g.chainID, g.trust); err != nil {
					return fmt.Errorf("--trust: %w", err)
				}
			} else {
				node := strings.TrimSpace(strings.Split(g.node, ",")[0])
				height, hash, at, err := newestHeader(ctx, node, g.chainID)
				if err != nil {
					return err
				}
				a = verify.Anchor{ChainID: g.chainID, Height: height, Hash: hash}
				cmd.Printf("chain %s, height %d (%s), from node %s\nheader hash %X\n\n", g.chainID, height, at.UTC().Format(time.RFC3339), node, hash)
				cmd.Printf("Compare this hash with one you get from someone you trust (a validator operator, or whoever\n" +
					"invited you), the way you would compare an SSH fingerprint. Anyone who gives you a wrong anchor\n" +
					"can show you a chain of their own.\n")
				if !yes && !confirm(cmd, "Trust this header? Type yes: ") {
					return errors.New("not trusted; nothing was stored")
				}
			}
			a.TrustingPeriod = period
			st := verify.State{Anchor: a, SetAt: time.Now()}
			// Verify it with the light client now: the anchor's header must be
			// served with this hash, and the witnesses must agree.
			vc, err := openWith(ctx, g, st)
			if err != nil {
				return err
			}
			defer vc.Close()
			if err := checkUnbonding(ctx, vc, period); err != nil {
				return err
			}
			if err := verify.SaveState(g.trustDir(), verify.State{Anchor: a, SetAt: st.SetAt, Latest: vc.Headers().Trusted()}); err != nil {
				return err
			}
			cmd.Printf("trusted: chain %s anchor %s (trusting period %s); stored in %s\n", a.ChainID, a, period, g.trustDir())
			return nil
		},
	}
	c.Flags().StringVar(&invite, "invite", "", "an invite link (http://…/join#… or parley:join?…&trust=…): trust the anchor it carries, the one the inviter's client trusts")
	c.Flags().BoolVar(&yes, "yes", false, "trust the node's newest header without asking (trust on first use: only for a node you run)")
	c.Flags().DurationVar(&period, "trusting-period", verify.DefaultTrustingPeriod, "how long a verified header may vouch for the next; must be below the chain's unbonding time")
	return c
}

func trustShowCmd(g *globals) *cobra.Command {
	var anchorOnly bool
	c := &cobra.Command{
		Use:   "show",
		Short: "Show the chain's trust anchor and the newest header verified from it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := verify.LoadState(g.trustDir(), g.chainID)
			if err != nil {
				return err
			}
			if anchorOnly {
				cmd.Println(st.Anchor.String())
				return nil
			}
			cmd.Printf("chain %s\nanchor %s (set %s)\ntrusting period %s\n", st.Anchor.ChainID, st.Anchor, st.SetAt.UTC().Format(time.RFC3339), st.Anchor.TrustingPeriod)
			if st.Latest != nil {
				age := time.Since(st.Latest.Time)
				cmd.Printf("newest verified header: height %d (%s, %s ago)\n", st.Latest.Height, st.Latest.Time.UTC().Format(time.RFC3339), age.Round(time.Second))
				if age > st.Anchor.TrustingPeriod {
					cmd.Printf("EXPIRED: older than the trusting period; run `parley trust init` again\n")
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&anchorOnly, "anchor", false, "print only the anchor, HEIGHT:HASH (for --trust or PARLEY_TRUST elsewhere)")
	return c
}

// openWith opens a verified client for state st (not the stored one).
func openWith(ctx context.Context, g *globals, st verify.State) (*verify.Client, error) {
	saved := g.trust
	g.trust = st.Anchor.String()
	defer func() { g.trust = saved }()
	if err := os.MkdirAll(g.trustDir(), 0o700); err != nil {
		return nil, err
	}
	return g.chain(false)
}

// newestHeader asks node for its newest header (not verified: the person
// compares its hash out of band).
func newestHeader(ctx context.Context, node, chainID string) (int64, []byte, time.Time, error) {
	rpc, err := rpchttp.New(node, "/websocket")
	if err != nil {
		return 0, nil, time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := rpc.Commit(ctx, nil)
	if err != nil {
		return 0, nil, time.Time{}, fmt.Errorf("node %s: %w", node, err)
	}
	if res.ChainID != chainID {
		return 0, nil, time.Time{}, fmt.Errorf("node %s is on chain %q, not %q", node, res.ChainID, chainID)
	}
	return res.Height, res.Hash(), res.Time, nil
}

// checkUnbonding refuses a trusting period that is not below the chain's
// unbonding time (read with a proof): past it, validators who signed a
// header may have withdrawn the stake that answers for it.
func checkUnbonding(ctx context.Context, vc *verify.Client, period time.Duration) error {
	snap, err := vc.Reader().Latest(ctx)
	if err != nil {
		return err
	}
	bz, err := snap.Get(ctx, stakingtypes.StoreKey, "staking parameters", stakingtypes.ParamsKey)
	if err != nil {
		return err
	}
	var p stakingtypes.Params
	if err := p.Unmarshal(bz); err != nil {
		return fmt.Errorf("staking parameters: %w", err)
	}
	if period >= p.UnbondingTime {
		return fmt.Errorf("trusting period %s is not below the chain's unbonding time %s: choose a shorter --trusting-period (two thirds of it is usual)", period, p.UnbondingTime)
	}
	return nil
}

func confirm(cmd *cobra.Command, prompt string) bool {
	cmd.Print(prompt)
	line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	return strings.TrimSpace(strings.ToLower(line)) == "yes"
}

// useInvite reads an invite link for the chain it names and, when it
// carries an anchor, makes it the anchor of this run: as --trust if
// asTrust, else only when no anchor is stored. It returns the meeting ID.
func (g *globals) useInvite(link string, asTrust bool) error {
	inv, err := meeting.ParseInvite(link)
	if err != nil {
		return err
	}
	switch {
	case inv.ChainID == "":
	case g.chainID == "":
		g.chainID = inv.ChainID
	case g.chainID != inv.ChainID:
		return fmt.Errorf("the invite is for chain %q, but this client is set for %q (--chain-id, PARLEY_CHAIN_ID)", inv.ChainID, g.chainID)
	}
	if inv.Trust == "" {
		if asTrust {
			return errors.New("the invite carries no trust anchor")
		}
		return nil
	}
	if inv.Signed != nil && !asTrust {
		// A signed invite's anchor must be this client's own; it is
		// adopted only by `parley trust init --invite`, by a person.
		have, err := g.configuredAnchor()
		if err != nil {
			return err
		}
		if err := meeting.CheckInviteAnchor(g.chainID, have, inv.Signed); err != nil {
			return err
		}
		g.signedInvite = &inv
		return nil
	}
	if asTrust {
		g.trust = inv.Trust
	} else {
		g.inviteTrust = inv.Trust
	}
	return nil
}

// meetingArg reads a command's MEETING argument: a meeting ID or an invite
// link (whose chain and anchor then apply, see useInvite).
func (g *globals) meetingArg(arg string) ([]byte, error) {
	inv, err := meeting.ParseInvite(arg)
	if err != nil {
		return nil, err
	}
	if err := g.useInvite(arg, false); err != nil {
		return nil, err
	}
	return inv.MeetingID, nil
}

// configuredAnchor is the anchor --trust/PARLEY_TRUST or the stored state
// sets; zero when there is none.
func (g *globals) configuredAnchor() (verify.Anchor, error) {
	if g.trust != "" {
		a, err := verify.ParseAnchor(g.chainID, g.trust)
		if err != nil {
			return a, fmt.Errorf("--trust: %w", err)
		}
		return a, nil
	}
	st, err := verify.LoadState(g.trustDir(), g.chainID)
	if errors.Is(err, verify.ErrNoAnchor) {
		return verify.Anchor{}, nil
	}
	return st.Anchor, err
}

// checkInvite checks, after the chain is open, a signed invite against the
// chain (VerifyInvite), or that an older invite's anchor is on the chain
// this client verifies.
func (g *globals) checkInvite(ctx context.Context, ch *verify.Client) error {
	if g.signedInvite != nil {
		_, err := meeting.VerifyInvite(ctx, ch, *g.signedInvite)
		return err
	}
	if g.inviteTrust == "" {
		return nil
	}
	if err := ch.CheckAnchor(ctx, g.inviteTrust); err != nil {
		return fmt.Errorf("the invite's trust anchor: %w", err)
	}
	return nil
}
