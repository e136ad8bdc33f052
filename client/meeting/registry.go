package meeting

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Chain is what this package needs of the chain: proven reads and
// transactions whose outcome is proven (client/verify.Client).
type Chain interface {
	ChainID() string
	Account() string
	Reader() *verify.Reader
	Broadcast(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error)
	BroadcastProven(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, verify.TxOutcome, error)
}

// provenMeeting reads the meeting with a proof.
func provenMeeting(ctx context.Context, c Chain, meetingID []byte) (meetingtypes.Meeting, error) {
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return meetingtypes.Meeting{}, err
	}
	m, err := snap.Meeting(ctx, meetingID)
	if err != nil {
		return m, fmt.Errorf("meeting %x: %w", meetingID, err)
	}
	return m, nil
}

// newestMeeting reads the meeting as the newest block has it, unproven:
// for the fields a signature binds against replay (the epoch, the count
// of leader changes), where a stale or false value gets the message
// refused by the chain and nothing more. A leader's session installs an
// epoch about a block before a proven read shows it (early.go), so a
// message signed over a proven read made just after a join would be
// refused.
func newestMeeting(ctx context.Context, c Chain, meetingID []byte) (meetingtypes.Meeting, error) {
	tip, err := c.Reader().Tip(ctx)
	if err != nil {
		return meetingtypes.Meeting{}, err
	}
	m, err := tip.Meeting(ctx, meetingID)
	if err != nil {
		return m, fmt.Errorf("meeting %x: %w", meetingID, err)
	}
	return m, nil
}

// Signer is a device key (client/keystore's DeviceKey). SignMessage
// returns the pure Ed25519 signature of msg, nil if the key cannot sign;
// as a crypto.Signer it signs the meeting key envelopes the key schedule
// seals and is handed to the call engine.
type Signer interface {
	crypto.Signer
	SignMessage(msg []byte) []byte
	PublicKey() ed25519.PublicKey
}

// Device is this device: its IDs and its key.
type Device struct {
	UserID, DeviceID string
	Key              Signer
}

// CreateOptions are a new meeting's policy and lifetime.
type CreateOptions struct {
	MaxParticipants  uint32
	Allowlist        []string
	PasscodeRequired bool
	Duration         time.Duration // default 2 h
	// StartsAt schedules the meeting (zero: it starts now). It opens at
	// once as a lobby; Duration counts from StartsAt.
	StartsAt time.Time
}

// Create opens a meeting led by d with a fresh random meeting ID.
func Create(ctx context.Context, c Chain, eph EphStore, d Device, o CreateOptions) ([]byte, *sdk.TxResponse, error) {
	id := make([]byte, meetingtypes.MeetingIDSize)
	if _, err := rand.Read(id); err != nil {
		return nil, nil, err
	}
	if o.Duration == 0 {
		o.Duration = 2 * time.Hour
	}
	key, err := eph.New(id, d)
	if err != nil {
		return nil, nil, err
	}
	pub := key.Public()
	policy := meetingtypes.Policy{MaxParticipants: o.MaxParticipants, Allowlist: o.Allowlist, PasscodeRequired: o.PasscodeRequired}
	secs := uint64(o.Duration / time.Second)
	// The signature is good for 5 minutes: long enough for a slow block,
	// short enough that the chain need not remember the ID for long.
	validUntil := time.Now().Add(5 * time.Minute).Unix()
	var startsAt int64
	if !o.StartsAt.IsZero() {
		startsAt = o.StartsAt.Unix()
	}
	msg := &meetingtypes.MsgCreateMeeting{
		Signer: c.Account(), MeetingId: id, UserId: d.UserID, DeviceId: d.DeviceID, EphPk: pub,
		Policy: policy, DurationSeconds: secs, ValidUntil: validUntil, StartsAt: startsAt,
		Sig: d.Key.SignMessage(meetingtypes.CreateSignBytes(c.ChainID(), id, d.UserID, d.DeviceID, pub, policy, secs, validUntil, startsAt)),
	}
	res, err := c.Broadcast(ctx, msg)
	if err != nil {
		return id, res, err
	}
	return id, res, key.Save()
}

// Request publishes a fresh ephemeral key of d for the meeting. sealed is
// opaque to the chain; Join fills it with a passcode proof.
func Request(ctx context.Context, c Chain, eph EphStore, d Device, meetingID, sealed []byte) (*sdk.TxResponse, error) {
	m, err := provenMeeting(ctx, c, meetingID)
	if err != nil {
		return nil, err
	}
	return request(ctx, c, eph, d, m, sealed)
}

func request(ctx context.Context, c Chain, eph EphStore, d Device, m meetingtypes.Meeting, sealed []byte) (*sdk.TxResponse, error) {
	key, err := eph.New(m.MeetingId, d)
	if err != nil {
		return nil, err
	}
	pub := key.Public()
	msg := &meetingtypes.MsgRequestJoin{
		Signer: c.Account(), MeetingId: m.MeetingId, UserId: d.UserID, DeviceId: d.DeviceID, EphPk: pub, Sealed: sealed,
		Sig: d.Key.SignMessage(meetingtypes.RequestSignBytes(c.ChainID(), m.MeetingId, m.CreatedHeight, d.UserID, d.DeviceID, pub, sealed)),
	}
	res, err := c.Broadcast(ctx, msg)
	if err != nil {
		return res, err
	}
	return res, key.Save()
}

// Commit commits epoch (the current epoch + 1) with the given members,
// the roster hash the leader computed from their ephemeral keys (the chain
// refuses the commit if its own differs) and the key commitment, signed by
// the leader d. It returns once the outcome is proven, and checks that the
// chain committed exactly this epoch with this roster hash.
func Commit(ctx context.Context, c Chain, d Device, meetingID []byte, epoch uint64, members []meetingtypes.MemberRef, rosterHash, commitment []byte, reason meetingtypes.Reason) (*sdk.TxResponse, error) {
	res, out, err := c.BroadcastProven(ctx, commitMsg(c, d, meetingID, epoch, members, rosterHash, commitment, reason))
	if err != nil || !c.Reader().Verified() {
		return res, err
	}
	return res, checkCommitOutcome(out, epoch, rosterHash)
}

// commitMsg is the commit of epoch, signed by the leader d.
func commitMsg(c Chain, d Device, meetingID []byte, epoch uint64, members []meetingtypes.MemberRef, rosterHash, commitment []byte, reason meetingtypes.Reason) *meetingtypes.MsgCommitEpoch {
	return &meetingtypes.MsgCommitEpoch{
		Signer: c.Account(), MeetingId: meetingID, Epoch: epoch, Members: members, RosterHash: rosterHash, KeyCommitment: commitment, Reason: reason,
		Sig: d.Key.SignMessage(meetingtypes.CommitSignBytes(c.ChainID(), meetingID, epoch, members, rosterHash, commitment, reason)),
	}
}

// checkCommitOutcome checks a commit's proven outcome: the chain committed
// exactly epoch, with the roster hash the leader computed.
func checkCommitOutcome(out verify.TxOutcome, epoch uint64, rosterHash []byte) error {
	var resp meetingtypes.MsgCommitEpochResponse
	if err := out.MsgResponse(0, &resp); err != nil {
		return fmt.Errorf("commit of epoch %d: %w", epoch, err)
	}
	if resp.Epoch != epoch || !bytes.Equal(resp.RosterHash, rosterHash) {
		return fmt.Errorf("commit of epoch %d: the chain committed epoch %d with roster hash %X, not %X", epoch, resp.Epoch, resp.RosterHash, rosterHash)
	}
	return nil
}

// Leave takes d out of the meeting and erases its ephemeral key.
func Leave(ctx context.Context, c Chain, eph EphStore, d Device, meetingID []byte) (*sdk.TxResponse, error) {
	priv, err := eph.Load(meetingID, d)
	if err != nil {
		return nil, err
	}
	keyHash := meetingtypes.EphKeyHash(priv.PublicKey().Bytes())
	msg := &meetingtypes.MsgLeave{
		Signer: c.Account(), MeetingId: meetingID, UserId: d.UserID, DeviceId: d.DeviceID,
		Sig: d.Key.SignMessage(meetingtypes.LeaveSignBytes(c.ChainID(), meetingID, d.UserID, d.DeviceID, keyHash)),
	}
	res, err := c.Broadcast(ctx, msg)
	if err != nil {
		return res, err
	}
	return res, eph.Erase(meetingID, d)
}

// Withdraw takes back d's pending request to join meetingID (a leave of
// a request that was never admitted), for a device whose request the
// leader refused (a wrong passcode): the chain holds one open request per
// device, so without it the person could not ask again. The session
// already erased the request's ephemeral key, so the key's hash the leave
// signs is read from the request itself, with a proof. It fails with
// ErrNotPending when d has no pending request there.
func Withdraw(ctx context.Context, c Chain, d Device, meetingID []byte) (*sdk.TxResponse, error) {
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return nil, err
	}
	r, err := snap.Request(ctx, meetingID, d.UserID, d.DeviceID)
	if errors.Is(err, verify.ErrNotFound) || (err == nil && r.Status != meetingtypes.RequestStatus_REQUEST_STATUS_PENDING) {
		return nil, fmt.Errorf("%w: %s/%s in meeting %x", ErrNotPending, d.UserID, d.DeviceID, meetingID)
	}
	if err != nil {
		return nil, err
	}
	msg := &meetingtypes.MsgLeave{
		Signer: c.Account(), MeetingId: meetingID, UserId: d.UserID, DeviceId: d.DeviceID,
		Sig: d.Key.SignMessage(meetingtypes.LeaveSignBytes(c.ChainID(), meetingID, d.UserID, d.DeviceID, meetingtypes.EphKeyHash(r.EphPk))),
	}
	return c.Broadcast(ctx, msg)
}

// ErrNotPending: Withdraw found no pending request of the device.
var ErrNotPending = errors.New("meeting: no pending request to withdraw")

// RotateEphKey replaces d's ephemeral key in the meeting (d must hold an
// admitted request) with a fresh one, signed over the hash of the current
// key from eph. The new key is stored as the successor (EphKey.SaveNext),
// beside the current one, before the broadcast, and returned; once the
// chain accepted it the caller promotes it (EphStore.Promote) and keeps the
// old key in memory until an epoch sealed to the new: the current epoch
// was sealed to the old one.
//
// On an error the new key is returned too (saved as the successor, not
// promoted): when the error is a *chain.PendingTxError the chain may hold
// it, and the caller keeps it until an epoch's roster tells.
func RotateEphKey(ctx context.Context, c Chain, eph EphStore, d Device, meetingID []byte) (*sdk.TxResponse, hpke.PrivateKey, error) {
	cur, err := eph.Load(meetingID, d)
	if err != nil {
		return nil, nil, err
	}
	key, err := eph.New(meetingID, d)
	if err != nil {
		return nil, nil, err
	}
	pub := key.Public()
	curHash := meetingtypes.EphKeyHash(cur.PublicKey().Bytes())
	msg := &meetingtypes.MsgRotateEphKey{
		Signer: c.Account(), MeetingId: meetingID, UserId: d.UserID, DeviceId: d.DeviceID, EphPk: pub,
		Sig: d.Key.SignMessage(meetingtypes.RotateSignBytes(c.ChainID(), meetingID, d.UserID, d.DeviceID, curHash, pub)),
	}
	// Saved before it is broadcast: a transaction whose fate is unknown
	// (chain.PendingTxError) may have landed, and then every later epoch
	// is sealed to this key.
	if err := key.SaveNext(); err != nil {
		return nil, nil, err
	}
	res, err := c.Broadcast(ctx, msg)
	return res, key.priv, err
}

// Claim takes over leadership from a timed-out leader with a fresh ephemeral key.
func Claim(ctx context.Context, c Chain, eph EphStore, d Device, meetingID []byte) (*sdk.TxResponse, error) {
	m, err := newestMeeting(ctx, c, meetingID)
	if err != nil {
		return nil, err
	}
	key, err := eph.New(meetingID, d)
	if err != nil {
		return nil, err
	}
	pub := key.Public()
	msg := &meetingtypes.MsgClaimLeadership{
		Signer: c.Account(), MeetingId: meetingID, UserId: d.UserID, DeviceId: d.DeviceID, EphPk: pub,
		Sig: d.Key.SignMessage(meetingtypes.ClaimSignBytes(c.ChainID(), meetingID, m.Epoch, m.LeaderChanges, d.UserID, d.DeviceID, pub)),
	}
	res, err := c.Broadcast(ctx, msg)
	if err != nil {
		return res, err
	}
	return res, key.Save()
}

// Transfer hands the leadership of the meeting (d must lead it) to to,
// which must be a member of the current epoch with an active device. The
// signature covers the proven epoch and leader-change count, so it cannot
// be replayed once either moves. The new leader's running session takes
// over at its next block; this device stays a member on the same key.
func Transfer(ctx context.Context, c Chain, d Device, meetingID []byte, to DeviceRef) (*sdk.TxResponse, error) {
	if to == (DeviceRef{User: d.UserID, Device: d.DeviceID}) {
		return nil, fmt.Errorf("%w: %s leads the meeting already", ErrTransfer, to)
	}
	m, err := newestMeeting(ctx, c, meetingID)
	if err != nil {
		return nil, err
	}
	if m.LeaderUser != d.UserID || m.LeaderDevice != d.DeviceID {
		return nil, fmt.Errorf("%w: %s/%s leads meeting %X, not this device %s/%s", ErrTransfer, m.LeaderUser, m.LeaderDevice, meetingID, d.UserID, d.DeviceID)
	}
	msg := &meetingtypes.MsgTransferLeadership{
		Signer: c.Account(), MeetingId: meetingID, NewLeaderUser: to.User, NewLeaderDevice: to.Device,
		Sig: d.Key.SignMessage(meetingtypes.TransferSignBytes(c.ChainID(), meetingID, m.Epoch, m.LeaderChanges, to.User, to.Device)),
	}
	return c.Broadcast(ctx, msg)
}

// End ends the meeting (d must lead it) and erases d's ephemeral key.
func End(ctx context.Context, c Chain, eph EphStore, d Device, meetingID []byte) (*sdk.TxResponse, error) {
	m, err := newestMeeting(ctx, c, meetingID)
	if err != nil {
		return nil, err
	}
	msg := &meetingtypes.MsgEndMeeting{
		Signer: c.Account(), MeetingId: meetingID,
		Sig: d.Key.SignMessage(meetingtypes.EndSignBytes(c.ChainID(), meetingID, m.Epoch)),
	}
	res, err := c.Broadcast(ctx, msg)
	if err != nil {
		return res, err
	}
	return res, eph.Erase(meetingID, d)
}

// ParseMeetingID reads a meeting ID given as 32 hex digits.
func ParseMeetingID(s string) ([]byte, error) { return parseID(s) }
