package call

import (
	"crypto/ed25519"
	"crypto/hpke"
	"fmt"

	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/internal/ids"
)

// MaxMembers bounds an epoch's roster on the mesh alone: beyond eight
// members a mesh costs each sender too much upstream. With a relay
// (Config.MediaRelay) the bound is MaxRelayMembers.
const MaxMembers = 8

// maxMembers is the largest roster this engine carries.
func (e *Engine) maxMembers() int {
	if e.cfg.MediaRelay != nil {
		return MaxRelayMembers
	}
	return MaxMembers
}

// deviceKeyOf returns the device key of the member that sends under kid
// in epoch: framesig's key resolver, over the verified rosters the engine
// was given.
func (e *Engine) deviceKeyOf(epoch, kid uint64) (ed25519.PublicKey, bool) {
	r := e.view.Load().forKID(kid)
	if r == nil || r.number != epoch || kid>>8 >= uint64(len(r.members)) {
		return nil, false
	}
	return r.members[kid>>8].DevicePub, true
}

// MaxIDLen bounds user and device IDs, as on chain.
const MaxIDLen = keyschedule.MaxIDLen

// Member is one device of an epoch's roster, as the chain lists it.
type Member struct {
	UserID    string
	DeviceID  string
	DevicePub ed25519.PublicKey // verifies the member's signals
	EphPub    []byte            // the member's ephemeral key for this meeting; signals to it are sealed to it
}

// String returns "user/device".
func (m Member) String() string { return m.id().String() }

func (m Member) id() ids.DeviceRef { return ids.DeviceRef{User: m.UserID, Device: m.DeviceID} }

// offers reports whether a makes the offer to b: the member whose
// "user/device" sorts lower, bytewise, with (user, device) breaking the tie
// that only IDs containing "/" can produce.
func offers(a, b ids.DeviceRef) bool {
	as, bs := a.String(), b.String()
	if as != bs {
		return as < bs
	}
	if a.User != b.User {
		return a.User < b.User
	}
	return a.Device < b.Device
}

// Epoch is one key epoch of the meeting as the chain and the leader's
// envelope give it.
type Epoch struct {
	Number uint64
	// Members in canonical roster order: a member's index is its SFrame
	// sender index.
	Members []Member
	// Key is the epoch's 32-byte meeting key MK_e. The engine keeps no copy;
	// the caller clears it after SetEpoch.
	Key []byte
}

// roster is what the engine keeps of an epoch: no key, the members with
// their parsed ephemeral keys, and an index by ID.
type roster struct {
	number  uint64
	members []Member
	ephKeys []hpke.PublicKey
	index   map[ids.DeviceRef]int
}

// newRoster checks ep and returns its roster.
func newRoster(ep Epoch, max int) (*roster, error) {
	switch {
	case ep.Number == 0:
		return nil, fmt.Errorf("%w: epoch number 0 is reserved", ErrInvalidEpoch)
	case len(ep.Members) == 0 || len(ep.Members) > max:
		return nil, fmt.Errorf("%w: %d members, want 1 to %d", ErrInvalidEpoch, len(ep.Members), max)
	case len(ep.Key) != keyschedule.MeetingKeySize:
		return nil, fmt.Errorf("%w: meeting key is %d bytes, want %d", ErrInvalidEpoch, len(ep.Key), keyschedule.MeetingKeySize)
	}
	r := &roster{
		number:  ep.Number,
		members: make([]Member, len(ep.Members)),
		ephKeys: make([]hpke.PublicKey, len(ep.Members)),
		index:   make(map[ids.DeviceRef]int, len(ep.Members)),
	}
	for i, m := range ep.Members {
		if err := checkIDs(m.UserID, m.DeviceID); err != nil {
			return nil, fmt.Errorf("%w: member %d: %w", ErrInvalidEpoch, i, err)
		}
		if len(m.DevicePub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: member %d (%s): device key is %d bytes, want %d", ErrInvalidEpoch, i, m, len(m.DevicePub), ed25519.PublicKeySize)
		}
		pk, err := keyschedule.ParseEphemeralPublicKey(m.EphPub)
		if err != nil {
			return nil, fmt.Errorf("%w: member %d (%s): %w", ErrInvalidEpoch, i, m, err)
		}
		if _, dup := r.index[m.id()]; dup {
			return nil, fmt.Errorf("%w: member %s listed twice", ErrInvalidEpoch, m)
		}
		r.index[m.id()] = i
		r.members[i] = Member{
			UserID:    m.UserID,
			DeviceID:  m.DeviceID,
			DevicePub: append(ed25519.PublicKey(nil), m.DevicePub...),
			EphPub:    append([]byte(nil), m.EphPub...),
		}
		r.ephKeys[i] = pk
	}
	return r, nil
}

func checkIDs(user, device string) error {
	if len(user) == 0 || len(user) > MaxIDLen {
		return fmt.Errorf("user ID is %d bytes, want 1 to %d", len(user), MaxIDLen)
	}
	if len(device) == 0 || len(device) > MaxIDLen {
		return fmt.Errorf("device ID is %d bytes, want 1 to %d", len(device), MaxIDLen)
	}
	return nil
}

// lookup returns the member with id and its index.
func (r *roster) lookup(id ids.DeviceRef) (Member, int, bool) {
	if r == nil {
		return Member{}, 0, false
	}
	i, ok := r.index[id]
	if !ok {
		return Member{}, 0, false
	}
	return r.members[i], i, true
}

// rosterView is the current and the previous roster, swapped as a whole so
// that the media path reads both without a lock.
type rosterView struct {
	cur, prev *roster
}

// forKID returns the roster whose epoch a KID names (its low byte), the
// current one first, as the Keyring resolves it.
func (v *rosterView) forKID(kid uint64) *roster {
	tag := kid & 0xff
	switch {
	case v == nil:
		return nil
	case v.cur != nil && v.cur.number&0xff == tag:
		return v.cur
	case v.prev != nil && v.prev.number&0xff == tag:
		return v.prev
	}
	return nil
}

// kidOf returns the KID a member at index sends under in epoch.
func kidOf(index int, epoch uint64) uint64 {
	return uint64(index)<<8 | epoch&0xff //nolint:gosec // index < MaxMembers
}
