package mailboxtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/internal/ids"
	"github.com/parleynet/parley/node/mailbox"
)

// ChainID is the chain ID the helpers sign for unless told otherwise.
const ChainID = "parley-test"

// Keys is an in-memory mailbox.DeviceKeys standing in for x/identity.
type Keys struct {
	mu      sync.Mutex
	devices map[ids.DeviceRef]*deviceState
}

type deviceState struct {
	pub     ed25519.PublicKey
	revoked bool
}

var _ mailbox.DeviceKeys = (*Keys)(nil)

// NewKeys returns an empty registry.
func NewKeys() *Keys { return &Keys{devices: make(map[ids.DeviceRef]*deviceState)} }

// Add registers a new device with a fresh Ed25519 key and returns it.
func (k *Keys) Add(user, device string) *Device {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.devices[ids.DeviceRef{User: user, Device: device}] = &deviceState{pub: pub}
	return &Device{User: user, Device: device, Key: priv, ChainID: ChainID}
}

// Revoke marks a device revoked, as MsgRevokeDevice would.
func (k *Keys) Revoke(user, device string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d := k.devices[ids.DeviceRef{User: user, Device: device}]; d != nil {
		d.revoked = true
	}
}

// ActiveDeviceKey implements mailbox.DeviceKeys.
func (k *Keys) ActiveDeviceKey(_ context.Context, user, device string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	d := k.devices[ids.DeviceRef{User: user, Device: device}]
	switch {
	case d == nil:
		return nil, fmt.Errorf("%w: device %s/%s not found", mailbox.ErrUnknownSender, user, device)
	case d.revoked:
		return nil, fmt.Errorf("%w: device %s/%s is revoked", mailbox.ErrUnknownSender, user, device)
	}
	return d.pub, nil
}

// Device is a sender device with its private key.
type Device struct {
	User, Device string
	Key          ed25519.PrivateKey
	ChainID      string
}

// Envelope returns a signed envelope from d to the recipient hash to, of
// kind signal, with a TTL of 60 s, created at now. Change fields and call
// Sign again to make variants.
func (d *Device) Envelope(to [mailboxv1.RecipientSize]byte, meetingID, body []byte, now time.Time) *mailboxv1.Envelope {
	e := &mailboxv1.Envelope{
		To:          to[:],
		FromUser:    d.User,
		FromDevice:  d.Device,
		MeetingId:   meetingID,
		Kind:        mailboxv1.KindSignal,
		Body:        body,
		CreatedAtMs: now.UnixMilli(),
		TtlSeconds:  60,
	}
	return d.Sign(e)
}

// Sign (re)signs e with d's key over d.ChainID and returns it.
func (d *Device) Sign(e *mailboxv1.Envelope) *mailboxv1.Envelope {
	e.Sig = ed25519.Sign(d.Key, mailboxv1.SignBytes(d.ChainID, e))
	return e
}

// TURNRequest returns a signed TURN credential request of d, created at
// now, with a fresh random nonce, for meetingID (nil for none). Change
// fields and call SignTURN again to make variants.
func (d *Device) TURNRequest(now time.Time, meetingID []byte) *mailboxv1.TurnCredentialsRequest {
	nonce := make([]byte, mailboxv1.TURNNonceSize)
	_, _ = rand.Read(nonce)
	r := &mailboxv1.TurnCredentialsRequest{
		User: d.User, Device: d.Device, CreatedAtMs: now.UnixMilli(), Nonce: nonce, MeetingId: meetingID,
	}
	return d.SignTURN(r)
}

// SignTURN (re)signs r with d's key over d.ChainID and returns it.
func (d *Device) SignTURN(r *mailboxv1.TurnCredentialsRequest) *mailboxv1.TurnCredentialsRequest {
	r.Sig = ed25519.Sign(d.Key, mailboxv1.TURNSignBytes(d.ChainID, r))
	return r
}

// RelayConnectRequest returns d's signed request to connect to a media
// relay with offer, for meetingID, at now, with a fresh nonce.
func (d *Device) RelayConnectRequest(now time.Time, meetingID []byte, offer string) *mailboxv1.RelayConnectRequest {
	nonce := make([]byte, mailboxv1.RelayNonceSize)
	_, _ = rand.Read(nonce)
	r := &mailboxv1.RelayConnectRequest{
		User: d.User, Device: d.Device, CreatedAtMs: now.UnixMilli(), Nonce: nonce, MeetingId: meetingID, OfferSdp: offer,
	}
	r.Sig = ed25519.Sign(d.Key, mailboxv1.RelayConnectSignBytes(d.ChainID, r))
	return r
}

// Clock is a settable mailbox.Clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now implements mailbox.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
