// Package meetingtest has test helpers for client/meeting, shipped the
// net/http/httptest way.
package meetingtest

import (
	"bytes"
	"context"
	"crypto/hpke"
	"sync"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/meeting"
)

// MemMailbox is an in-memory mailbox shared by the sessions of a test. It
// stores what is posted and delivers it to subscribers of the recipient key,
// like a single node's mailbox, without signatures or gossip.
type MemMailbox struct {
	mu     sync.Mutex
	stored map[[32]byte][]meeting.Delivery
	subs   map[[32]byte][]chan meeting.Delivery
}

// NewMemMailbox returns an empty mailbox.
func NewMemMailbox() *MemMailbox {
	return &MemMailbox{stored: map[[32]byte][]meeting.Delivery{}, subs: map[[32]byte][]chan meeting.Delivery{}}
}

// From returns the Mailbox view of one sender device.
func (m *MemMailbox) From(user, device string) meeting.Mailbox {
	return memView{m: m, user: user, device: device}
}

// Inject stores a delivery as if posted, e.g. a forged or replayed one.
func (m *MemMailbox) Inject(to [32]byte, d meeting.Delivery) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stored[to] = append(m.stored[to], d)
	for _, ch := range m.subs[to] {
		select {
		case ch <- d:
		default:
		}
	}
}

// Posted returns what was posted to a recipient.
func (m *MemMailbox) Posted(to [32]byte) []meeting.Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]meeting.Delivery(nil), m.stored[to]...)
}

type memView struct {
	m            *MemMailbox
	user, device string
}

func (v memView) Post(_ context.Context, to [32]byte, meetingID []byte, kind uint32, body []byte) error {
	v.m.Inject(to, meeting.Delivery{FromUser: v.user, FromDevice: v.device, MeetingID: bytes.Clone(meetingID), Kind: kind, Body: bytes.Clone(body)})
	return nil
}

func (v memView) Subscribe(ctx context.Context, priv hpke.PrivateKey, meetingID []byte) (<-chan meeting.Delivery, error) {
	to := keyschedule.EphemeralKeyHash(priv.PublicKey().Bytes())
	ch := make(chan meeting.Delivery, 256)
	v.m.mu.Lock()
	for _, d := range v.m.stored[to] {
		if bytes.Equal(d.MeetingID, meetingID) {
			ch <- d
		}
	}
	v.m.subs[to] = append(v.m.subs[to], ch)
	v.m.mu.Unlock()
	go func() {
		<-ctx.Done()
		v.m.mu.Lock()
		defer v.m.mu.Unlock()
		subs := v.m.subs[to]
		for i, c := range subs {
			if c == ch {
				v.m.subs[to] = append(subs[:i], subs[i+1:]...)
				break
			}
		}
		close(ch)
	}()
	return ch, nil
}
