package calltest

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"testing"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/keyschedule"
)

// ChainID and MeetingID name the meeting of tests.
var (
	ChainID   = "parley-calltest"
	MeetingID = []byte("calltest-meet-16")
)

// Device is one member device with its private keys.
type Device struct {
	Member    call.Member
	DeviceKey ed25519.PrivateKey
	EphKey    hpke.PrivateKey
}

// NewDevice makes a device with a fresh Ed25519 device key and a fresh
// MLKEM768-X25519 ephemeral key.
func NewDevice(tb testing.TB, user, device string) *Device {
	tb.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	eph, err := keyschedule.GenerateEphemeralKey()
	if err != nil {
		tb.Fatal(err)
	}
	return &Device{
		Member:    call.Member{UserID: user, DeviceID: device, DevicePub: pub, EphPub: eph.PublicKey().Bytes()},
		DeviceKey: priv,
		EphKey:    eph,
	}
}

// Config returns an engine config for d with the test meeting and t.
func (d *Device) Config(t call.Transport) call.Config {
	return call.Config{
		UserID:       d.Member.UserID,
		DeviceID:     d.Member.DeviceID,
		DeviceKey:    d.DeviceKey,
		EphemeralKey: d.EphKey,
		ChainID:      ChainID,
		MeetingID:    MeetingID,
		Transport:    t,
	}
}

// NewEpoch returns epoch number with a fresh random key and devs as its
// roster, in the order given.
func NewEpoch(tb testing.TB, number uint64, devs ...*Device) call.Epoch {
	tb.Helper()
	ep := call.Epoch{Number: number, Key: keyschedule.NewMeetingKey()}
	for _, d := range devs {
		ep.Members = append(ep.Members, d.Member)
	}
	return ep
}
