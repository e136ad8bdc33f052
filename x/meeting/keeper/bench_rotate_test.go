package keeper_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"

	"github.com/parleynet/parley/client/chain"
	"github.com/parleynet/parley/x/meeting/types"

	mtest "github.com/parleynet/parley/x/meeting/testutil"
)

// The load of post-compromise security (issue 12, item 4): after each
// periodic rekey every member of a meeting rotates its ephemeral key with
// MsgRotateEphKey. For a meeting of rotateMembers members rekeyed every
// rotatePeriod this is rotateMembers transactions per period.
const (
	rotateMembers = 200
	rotatePeriod  = 5 * time.Minute
	// rotateGasLimit is the gas limit written into the measured tx; any
	// limit from 16,384 to 2,097,151 encodes in 3 bytes, so the size does
	// not depend on it.
	rotateGasLimit = 200_000
)

// BenchmarkRotateEphKey200 delivers MsgRotateEphKey through the msg server
// (a fresh event manager and gas meter per message, as DeliverTx runs it)
// in an open meeting of 200 admitted members, each op the next member in
// roster order rotating to a never-used key: 200 ops are one round, what
// the meeting sends after one periodic rekey. Keys and signatures are made
// outside the timer (they are the client's cost). It reports the gas the
// keeper consumed, the message's protobuf size and the size of the whole
// signed transaction the client broadcasts (client/chain's encoding,
// SIGN_MODE_DIRECT, one secp256k1 signer, no fee amount, no memo), and the
// load of one 200-member meeting rotating every 5 minutes.
func BenchmarkRotateEphKey200(b *testing.B) {
	f := mtest.NewFixture(b)
	p := types.DefaultParams()
	p.MaxPendingRequests = rotateMembers
	f.SetParams(b, p)
	id := mtest.NewMeetingID(200)
	devs := make([]dev, rotateMembers)
	for i := range devs {
		d := dev{user: fmt.Sprintf("member%03d", i), id: "d0"}
		d.key = f.RegisterUser(b, d.user, d.id)
		d.eph, _ = f.EphKey(b)
		devs[i] = d
	}
	leader := devs[0]
	deliver := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	deliver(f.Msg.CreateMeeting(f.Ctx, f.CreateMeetingMsg(id, leader.user, leader.id, leader.key, leader.eph, types.Policy{}, duration)))
	for _, d := range devs[1:] {
		deliver(f.Msg.RequestJoin(f.Ctx, f.RequestJoinMsg(id, d.user, d.id, d.key, d.eph, nil)))
	}
	deliver(f.Msg.CommitEpoch(f.Ctx, f.CommitEpochMsg(id, 1, refs(devs...), mtest.Commitment(1), types.Reason_REASON_JOIN, leader.key)))

	var (
		msgs     = make([]*types.MsgRotateEphKey, 0, rotateMembers)
		gas      uint64
		msgBytes int
	)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%rotateMembers == 0 {
			// The next round: every member's rotation, signed over the
			// key its request holds now.
			b.StopTimer()
			msgs = msgs[:0]
			for j := range min(rotateMembers, b.N-i) {
				d := &devs[j]
				next, _ := f.EphKey(b)
				sb := types.RotateSignBytes(f.Ctx.ChainID(), id, d.user, d.id, types.EphKeyHash(d.eph), next)
				msgs = append(msgs, &types.MsgRotateEphKey{
					Signer: f.Owner, MeetingId: id, UserId: d.user, DeviceId: d.id, EphPk: next, Sig: ed25519.Sign(d.key, sb),
				})
				d.eph = next
			}
			b.StartTimer()
		}
		msg := msgs[i%rotateMembers]
		meter := storetypes.NewInfiniteGasMeter()
		ctx := f.Ctx.WithEventManager(sdk.NewEventManager()).WithGasMeter(meter)
		if _, err := f.Msg.RotateEphKey(ctx, msg); err != nil {
			b.Fatal(err)
		}
		gas += meter.GasConsumed()
		msgBytes = msg.Size()
	}
	b.StopTimer()
	txBytes := signedRotateTxSize(b, msgs[0])

	perSecond := float64(rotateMembers) / rotatePeriod.Seconds()
	nsPerOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(float64(gas)/float64(b.N), "gas/op")
	b.ReportMetric(float64(msgBytes), "msg-B/op")
	b.ReportMetric(float64(txBytes), "tx-B/op")
	b.ReportMetric(perSecond*float64(txBytes), "load-B/s")
	b.ReportMetric(float64(rotateMembers*txBytes), "burst-B/round")
	b.ReportMetric(perSecond*nsPerOp/1e3, "load-keeper-µs/s")
}

// signedRotateTxSize is the size of the tx a client broadcasts for msg:
// built and signed as client/chain does it, with a throwaway account
// key (the signer field is that account's address).
func signedRotateTxSize(b *testing.B, msg *types.MsgRotateEphKey) int {
	b.Helper()
	enc, err := chain.NewEncoding()
	if err != nil {
		b.Fatal(err)
	}
	priv := secp256k1.GenPrivKeyFromSecret([]byte("rotate bench account"))
	m := *msg
	m.Signer = sdk.AccAddress(priv.PubKey().Address()).String()
	const accNum, seq = 1_234, 5_678 // a few bytes each, as on a live chain
	txf := tx.Factory{}.WithTxConfig(enc.TxConfig).WithChainID(mtest.ChainID).
		WithAccountNumber(accNum).WithSequence(seq).WithGas(rotateGasLimit)
	builder, err := txf.BuildUnsignedTx(&m)
	if err != nil {
		b.Fatal(err)
	}
	if err := builder.SetSignatures(signing.SignatureV2{
		PubKey: priv.PubKey(), Data: &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_DIRECT}, Sequence: seq,
	}); err != nil {
		b.Fatal(err)
	}
	signer := authsigning.SignerData{ChainID: mtest.ChainID, AccountNumber: accNum, Sequence: seq, PubKey: priv.PubKey(), Address: m.Signer}
	sig, err := tx.SignWithPrivKey(context.Background(), signing.SignMode_SIGN_MODE_DIRECT, signer, builder, priv, enc.TxConfig, seq)
	if err != nil {
		b.Fatal(err)
	}
	if err := builder.SetSignatures(sig); err != nil {
		b.Fatal(err)
	}
	bz, err := enc.TxConfig.TxEncoder()(builder.GetTx())
	if err != nil {
		b.Fatal(err)
	}
	return len(bz)
}
