package identity

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/verify"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// ErrLinkStale means the user changed (another device was added or
// revoked) before this link request was approved: its signatures cover
// the old seq, so the new device must make a new request.
var ErrLinkStale = errors.New("the link request is stale: the user changed since it was made; make a new one on the new device")

// NewLink makes the link request of a new device (deviceID, key) for the
// existing user userID, at the user's current (proven) seq and owner.
func NewLink(ctx context.Context, c Chain, userID, deviceID string, key Signer) (LinkRequest, error) {
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return LinkRequest{}, err
	}
	u, err := snap.User(ctx, userID)
	if errors.Is(err, verify.ErrNotFound) {
		return LinkRequest{}, fmt.Errorf("user %s is not registered on chain %s: claim it instead of linking", userID, c.ChainID())
	}
	if err != nil {
		return LinkRequest{}, fmt.Errorf("user %s: %w", userID, err)
	}
	if _, err := snap.Device(ctx, userID, deviceID); err == nil {
		return LinkRequest{}, fmt.Errorf("user %s already has (or had) a device %q, and device IDs are never reused: choose another device name", userID, deviceID)
	} else if !errors.Is(err, verify.ErrNotFound) {
		return LinkRequest{}, fmt.Errorf("device %s of %s: %w", deviceID, userID, err)
	}
	pub := key.PublicKey()
	return LinkRequest{
		UserID: userID, DeviceID: deviceID, Seq: u.Seq, PubKey: pub,
		PopSig: key.SignMessage(identitytypes.AddDevicePoPSignBytes(c.ChainID(), u.Owner, userID, u.Seq, deviceID, pub)),
	}, nil
}

// CheckLink checks a link request on the existing device of userID that
// is asked to approve it, against the user's proven record: the request
// is for this user, this device's account owns the user (only the owner
// may send MsgAddDevice), it was made at the current seq, and its
// possession signature verifies. It returns the verification code the
// person must compare with the one the new device shows.
func CheckLink(ctx context.Context, c Chain, userID string, r LinkRequest) (string, error) {
	if r.UserID != userID {
		return "", fmt.Errorf("%w: it asks to join user %s, but this device belongs to %s", ErrLinkRefused, r.UserID, userID)
	}
	u, err := provenUser(ctx, c, userID)
	if err != nil {
		return "", err
	}
	if c.Account() == "" {
		return "", ErrNoAccount
	}
	if u.Owner != c.Account() {
		return "", fmt.Errorf("%w: user %s is owned by account %s and this device pays with %s; only the owner can add devices: approve on the device that registered %s, or with --from set to the owner's keyring account", ErrLinkRefused, userID, u.Owner, c.Account(), userID)
	}
	if r.Seq != u.Seq {
		return "", fmt.Errorf("%w: made at seq %d, the user is at seq %d now", ErrLinkStale, r.Seq, u.Seq)
	}
	sb := identitytypes.AddDevicePoPSignBytes(c.ChainID(), u.Owner, r.UserID, r.Seq, r.DeviceID, r.PubKey)
	if !ed25519.Verify(r.PubKey, sb, r.PopSig) {
		return "", fmt.Errorf("%w: its possession signature does not verify for key %x: the token was altered (its key replaced?) or made for another chain or owner", ErrLinkRefused, []byte(r.PubKey))
	}
	return LinkCode(c.ChainID(), r.UserID, r.DeviceID, r.PubKey), nil
}

// ApproveLink adds the device of r to userID, approved by this device
// (approverID, approver), once the person has confirmed that the new
// device shows code. It checks r again (CheckLink) and refuses when code
// is not the request's verification code.
func ApproveLink(ctx context.Context, c Chain, userID, approverID string, approver Signer, r LinkRequest, code string) (*sdk.TxResponse, error) {
	want, err := CheckLink(ctx, c, userID, r)
	if err != nil {
		return nil, err
	}
	if !SameCode(code, want) {
		return nil, fmt.Errorf("%w: the verification code %q is not this request's (%s): the token may have been replaced on its way; do not approve it", ErrLinkRefused, code, want)
	}
	msg := &identitytypes.MsgAddDevice{
		Owner: c.Account(), UserId: r.UserID, DeviceId: r.DeviceID, Pubkey: r.PubKey, PopSig: r.PopSig,
		ApproverDeviceId: approverID,
		ApproverSig:      approver.SignMessage(identitytypes.ApproveSignBytes(c.ChainID(), r.UserID, r.Seq, r.DeviceID, r.PubKey, approverID)),
	}
	return c.Broadcast(ctx, msg)
}

// WaitLinked waits, reading the chain with proofs every poll, until the
// device of r is an active device of its user with r's key. It fails
// with ErrLinkStale when the user changed without adding it, and at once
// if the device ID was taken with another key.
func WaitLinked(ctx context.Context, c Chain, r LinkRequest, poll time.Duration) (identitytypes.Device, error) {
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		d, done, err := linkState(ctx, c, r)
		if done || err != nil {
			return d, err
		}
		select {
		case <-ctx.Done():
			return identitytypes.Device{}, fmt.Errorf("waiting for %s/%s to be approved: %w", r.UserID, r.DeviceID, ctx.Err())
		case <-t.C:
		}
	}
}

// linkState reads whether r's device is on chain yet.
func linkState(ctx context.Context, c Chain, r LinkRequest) (identitytypes.Device, bool, error) {
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return identitytypes.Device{}, false, nil // a node may come back: keep waiting
	}
	d, err := snap.Device(ctx, r.UserID, r.DeviceID)
	switch {
	case err == nil && !bytes.Equal(d.Pubkey, r.PubKey):
		return d, true, fmt.Errorf("%w: device %s of %s was added with ANOTHER key (%x), not this device's: tell the approver it approved the wrong request", ErrLinkRefused, r.DeviceID, r.UserID, d.Pubkey)
	case err == nil && d.RevokedHeight != 0:
		return d, true, fmt.Errorf("%w: device %s of %s was added and then revoked at height %d", ErrLinkRefused, r.DeviceID, r.UserID, d.RevokedHeight)
	case err == nil:
		return d, true, nil
	case !errors.Is(err, verify.ErrNotFound):
		return d, false, nil
	}
	u, err := snap.User(ctx, r.UserID)
	if err == nil && u.Seq != r.Seq {
		return identitytypes.Device{}, true, fmt.Errorf("%w (seq %d, now %d)", ErrLinkStale, r.Seq, u.Seq)
	}
	return identitytypes.Device{}, false, nil
}
