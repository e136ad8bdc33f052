//go:build bench

package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"golang.org/x/sync/errgroup"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/internal/chainparams"
	"github.com/parleynet/parley/internal/localnet"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// tpFunders are the localnet's funded test accounts, which fund the
// benchmark's accounts.
var tpFunders = []string{"alice", "bob", "carol", "dave"}

// tpEnv is one network with its accounts, users and meetings.
type tpEnv struct {
	net     *localnet.Network
	chainID string
	codec   chain.Encoding
	query   client.Context // node 0: account queries and simulation
	blocks  *rpchttp.HTTP  // node 0: blocks and their results

	// accounts[a] pays for guests[a]'s join request and for the commits of
	// commitMeetings[a], led by leaders[a]; guests[a] asks to join
	// joinMeetings[a/tpPerJoinMeeting]. The members are in every commit
	// meeting's roster.
	accounts       []*tpAccount
	guests         []*tpDevice
	leaders        []*tpDevice
	members        []*tpDevice
	joinMeetings   []*tpMeeting
	commitMeetings []*tpMeeting
	users          int
}

// tpAccount is a paying account whose key is held in memory, so that it
// signs offline at the speed of secp256k1.
type tpAccount struct {
	priv *secp256k1.PrivKey
	addr sdk.AccAddress
	num  uint64        // account number
	seq  uint64        // the next sequence to sign with
	rpc  *rpchttp.HTTP // the node this account submits to
}

// tpDevice is a registered device and its Ed25519 key, held in memory:
// the keystore's files are not what is measured.
type tpDevice struct {
	user, device string
	priv         ed25519.PrivateKey
}

func tpNewDevice(user string) *tpDevice {
	seed := sha256.Sum256([]byte("throughput device " + user))
	return &tpDevice{user: user, device: "d0", priv: ed25519.NewKeyFromSeed(seed[:])}
}

func (d *tpDevice) sign(msg []byte) []byte { return ed25519.Sign(d.priv, msg) }
func (d *tpDevice) pub() []byte            { return d.priv.Public().(ed25519.PublicKey) }
func (d *tpDevice) ref() meetingtypes.MemberRef {
	return meetingtypes.MemberRef{UserId: d.user, DeviceId: d.device}
}

// tpMeeting is a meeting made in the set-up.
type tpMeeting struct {
	id      []byte
	leader  *tpDevice
	created int64 // created_height, which join requests sign over
	roster  []meetingtypes.MemberRef
	epoch   uint64 // commit meetings: the last committed epoch
	// keyed holds every device's request with its key hash, for the
	// roster hash a commit carries.
	keyed []meetingtypes.Member
}

// keyRequest records that d's request in m holds eph.
func (m *tpMeeting) keyRequest(d *tpDevice, eph []byte) {
	m.keyed = append(m.keyed, meetingtypes.Member{UserId: d.user, DeviceId: d.device, EphPkHash: meetingtypes.EphKeyHash(eph)})
}

// rosterHash is the hash of m's roster over its members' request keys.
func (m *tpMeeting) rosterHash() []byte {
	var members []meetingtypes.Member
	for _, k := range m.keyed {
		if slices.ContainsFunc(m.roster, func(r meetingtypes.MemberRef) bool { return r.UserId == k.UserId && r.DeviceId == k.DeviceId }) {
			members = append(members, k)
		}
	}
	meetingtypes.SortMembers(members)
	return meetingtypes.RosterHash(m.id, members)
}

func tpEphKey() ([]byte, error) {
	k, err := keyschedule.GenerateEphemeralKey()
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes(), nil
}

func tpMeetingID(kind string, i int) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "throughput %s meeting %d", kind, i))
	return h[:meetingtypes.MeetingIDSize]
}

// tpSetUp funds n accounts through the project's chain client, then,
// with the same one-tx-per-account rounds the measurement uses, registers
// the devices (which also puts each account's public key on chain, so no
// measured tx pays for that), opens the meetings, and admits every commit
// meeting's members with epoch 1.
func tpSetUp(ctx context.Context, b *testing.B, net *localnet.Network, n int) *tpEnv {
	b.Helper()
	c, err := chain.NewEncoding()
	if err != nil {
		b.Fatal(err)
	}
	e := &tpEnv{net: net, chainID: net.ChainID(), codec: c}
	// Start returns once one node has a block; the set-up talks to all.
	if err := tpWaitAll(ctx, net); err != nil {
		b.Fatal(err)
	}
	rpcs := make([]*rpchttp.HTTP, net.Len())
	for i := range rpcs {
		if rpcs[i], err = client.NewClientFromNode(net.Node(i).RPC); err != nil {
			b.Fatal(err)
		}
	}
	e.blocks = rpcs[0]
	e.query = client.Context{}.
		WithClient(rpcs[0]).
		WithCodec(c.Codec).
		WithInterfaceRegistry(c.Registry).
		WithTxConfig(c.TxConfig).
		WithChainID(e.chainID).
		WithAccountRetriever(authtypes.AccountRetriever{})

	for a := range n {
		priv := secp256k1.GenPrivKeyFromSecret(fmt.Appendf(nil, "throughput account %d", a))
		e.accounts = append(e.accounts, &tpAccount{priv: priv, addr: sdk.AccAddress(priv.PubKey().Address()), rpc: rpcs[a%len(rpcs)]})
		e.guests = append(e.guests, tpNewDevice(fmt.Sprintf("guest%04d", a)))
		e.leaders = append(e.leaders, tpNewDevice(fmt.Sprintf("host%04d", a)))
	}
	for k := range tpMembers - 1 {
		e.members = append(e.members, tpNewDevice(fmt.Sprintf("member%d", k)))
	}
	for j := range (n + tpPerJoinMeeting - 1) / tpPerJoinMeeting {
		e.joinMeetings = append(e.joinMeetings, &tpMeeting{id: tpMeetingID("join", j), leader: tpNewDevice(fmt.Sprintf("jhost%d", j))})
	}
	for a, l := range e.leaders {
		m := &tpMeeting{id: tpMeetingID("commit", a), leader: l, roster: []meetingtypes.MemberRef{l.ref()}}
		for _, d := range e.members {
			m.roster = append(m.roster, d.ref())
		}
		e.commitMeetings = append(e.commitMeetings, m)
	}

	e.fund(ctx, b)

	// Registration: account a registers guest a and host a; the first
	// accounts also register a join-meeting host or a member each.
	var extras []*tpDevice
	for _, m := range e.joinMeetings {
		extras = append(extras, m.leader)
	}
	extras = append(extras, e.members...)
	if len(extras) > n {
		b.Fatalf("%d extra devices for %d accounts", len(extras), n)
	}
	e.users = 2*n + len(extras)
	e.setUpRound(ctx, b, "registering users", func(a int) ([]sdk.Msg, error) {
		devs := []*tpDevice{e.guests[a], e.leaders[a]}
		if a < len(extras) {
			devs = append(devs, extras[a])
		}
		owner := e.accounts[a].addr.String()
		var msgs []sdk.Msg
		for _, d := range devs {
			msgs = append(msgs, &identitytypes.MsgRegisterUser{
				Owner: owner, UserId: d.user, DeviceId: d.device, Pubkey: d.pub(),
				PopSig: d.sign(identitytypes.RegisterSignBytes(e.chainID, owner, d.user, d.device, d.pub())),
			})
		}
		return msgs, nil
	})

	// Meetings: account a opens commit meeting a, the first accounts a
	// join meeting each too.
	opens := func(a int) []*tpMeeting {
		ms := []*tpMeeting{e.commitMeetings[a]}
		if a < len(e.joinMeetings) {
			ms = append(ms, e.joinMeetings[a])
		}
		return ms
	}
	validUntil := time.Now().Add(5 * time.Minute).Unix()
	heights := e.setUpRound(ctx, b, "creating meetings", func(a int) ([]sdk.Msg, error) {
		var msgs []sdk.Msg
		for _, m := range opens(a) {
			eph, err := tpEphKey()
			if err != nil {
				return nil, err
			}
			const secs = 3600
			d := m.leader
			m.keyRequest(d, eph)
			msgs = append(msgs, &meetingtypes.MsgCreateMeeting{
				Signer: e.accounts[a].addr.String(), MeetingId: m.id, UserId: d.user, DeviceId: d.device, EphPk: eph,
				DurationSeconds: secs, ValidUntil: validUntil,
				Sig: d.sign(meetingtypes.CreateSignBytes(e.chainID, m.id, d.user, d.device, eph, meetingtypes.Policy{}, secs, validUntil, 0)),
			})
		}
		return msgs, nil
	})
	for a, h := range heights {
		for _, m := range opens(a) {
			m.created = h // the height of the block that created it
		}
	}

	e.setUpRound(ctx, b, "admitting commit rosters", func(a int) ([]sdk.Msg, error) {
		m := e.commitMeetings[a]
		var msgs []sdk.Msg
		for _, d := range e.members {
			eph, err := tpEphKey()
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, e.requestMsg(e.accounts[a], m, d, eph))
			m.keyRequest(d, eph)
		}
		// A tx's messages run in order: the requests are pending when
		// epoch 1 admits them.
		return append(msgs, e.commitMsg(e.accounts[a], m, 1, meetingtypes.Reason_REASON_JOIN)), nil
	})
	for _, m := range e.commitMeetings {
		m.epoch = 1
	}
	return e
}

// fund sends every account coins from the localnet's test accounts, one
// multi-send each through the project's chain client, and reads the
// accounts' numbers once every node has the blocks.
func (e *tpEnv) fund(ctx context.Context, b *testing.B) {
	b.Helper()
	// chain.New sets the SDK's global bech32 config: one at a time.
	funders := make([]*chain.Client, len(tpFunders))
	for f, name := range tpFunders {
		var err error
		funders[f], err = chain.New(chain.Config{
			Node: e.net.Node(f % e.net.Len()).RPC, ChainID: e.chainID,
			KeyringDir: e.net.KeyringDir(), KeyringBackend: "test", From: name,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for f, cc := range funders {
		g.Go(func() error {
			coins := sdk.NewCoins(sdk.NewInt64Coin(chainparams.BondDenom, 1_000_000))
			var outs []banktypes.Output
			for a := f; a < len(e.accounts); a += len(tpFunders) {
				outs = append(outs, banktypes.NewOutput(e.accounts[a].addr, coins))
			}
			total := sdk.NewCoins(sdk.NewInt64Coin(chainparams.BondDenom, int64(len(outs))*1_000_000))
			from, err := sdk.AccAddressFromBech32(cc.Account())
			if err != nil {
				return err
			}
			if _, err := cc.Broadcast(gctx, banktypes.NewMsgMultiSend(banktypes.NewInput(from, total), outs)); err != nil {
				return fmt.Errorf("funding from %s: %w", tpFunders[f], err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	if err := tpWaitAll(ctx, e.net); err != nil {
		b.Fatal(err)
	}
	g, _ = errgroup.WithContext(ctx)
	for w := range tpWorkers {
		g.Go(func() error {
			for a := w; a < len(e.accounts); a += tpWorkers {
				acc := e.accounts[a]
				var err error
				if acc.num, acc.seq, err = (authtypes.AccountRetriever{}).GetAccountNumberSequence(e.query, acc.addr); err != nil {
					return fmt.Errorf("account %d (%s): %w", a, acc.addr, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// setUpRound runs one round of the set-up and returns the height of each
// account's tx.
func (e *tpEnv) setUpRound(ctx context.Context, b *testing.B, what string, msgs func(a int) ([]sdk.Msg, error)) []int64 {
	b.Helper()
	all := make([][]sdk.Msg, len(e.accounts))
	for a := range all {
		var err error
		if all[a], err = msgs(a); err != nil {
			b.Fatalf("%s: %v", what, err)
		}
	}
	_, heights, err := e.round(ctx, what, all)
	if err != nil {
		b.Fatal(err)
	}
	return heights
}

// tpWaitAll waits until every node has a block after the highest any
// node has now.
func tpWaitAll(ctx context.Context, net *localnet.Network) error {
	h, err := net.MaxHeight(ctx)
	if err != nil {
		return err
	}
	for i := range net.Len() {
		if err := net.WaitNodeHeight(ctx, i, h+1); err != nil {
			return err
		}
	}
	return nil
}

// requestMsg is d's request to join m, paid by acc (client/meeting.Request
// builds the same).
func (e *tpEnv) requestMsg(acc *tpAccount, m *tpMeeting, d *tpDevice, eph []byte) *meetingtypes.MsgRequestJoin {
	return &meetingtypes.MsgRequestJoin{
		Signer: acc.addr.String(), MeetingId: m.id, UserId: d.user, DeviceId: d.device, EphPk: eph,
		Sig: d.sign(meetingtypes.RequestSignBytes(e.chainID, m.id, m.created, d.user, d.device, eph, nil)),
	}
}

// commitMsg is m's leader committing the given epoch with m's roster and a
// fresh key commitment, paid by acc (client/meeting.Commit builds the
// same).
func (e *tpEnv) commitMsg(acc *tpAccount, m *tpMeeting, epoch uint64, reason meetingtypes.Reason) *meetingtypes.MsgCommitEpoch {
	commitment := sha256.Sum256(fmt.Appendf(nil, "throughput commitment %x %d", m.id, epoch))
	rosterHash := m.rosterHash()
	return &meetingtypes.MsgCommitEpoch{
		Signer: acc.addr.String(), MeetingId: m.id, Epoch: epoch, Members: m.roster, RosterHash: rosterHash,
		KeyCommitment: commitment[:], Reason: reason,
		Sig: m.leader.sign(meetingtypes.CommitSignBytes(e.chainID, m.id, epoch, m.roster, rosterHash, commitment[:], reason)),
	}
}
