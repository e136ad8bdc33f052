package sfu

import (
	"context"
	"fmt"

	"github.com/parleynet/parley/internal/ids"
)

// JoinRequest is a member's request to join a meeting through the relay.
// The caller has admitted the member before calling Join.
type JoinRequest struct {
	MeetingID []byte
	User      string
	Device    string
	// OfferSDP is the member's complete offer (it waited for ICE
	// gathering): the wire contract of doc.go.
	OfferSDP string
}

// Join answers a member's offer: it checks the offer against the wire
// contract, makes the member's connection, and returns the answer with
// the relay's candidates once gathered (ctx bounds the wait). A member
// already in the meeting under the same (user, device) is replaced: its
// old session closes when the new one is in.
func (r *Relay) Join(ctx context.Context, req JoinRequest) (string, error) {
	if err := checkRequest(req); err != nil {
		return "", err
	}
	shape, err := parseOffer(req.OfferSDP)
	if err != nil {
		return "", err
	}
	key := ids.DeviceRef{User: req.User, Device: req.Device}
	m, err := r.reserve(req.MeetingID, key)
	if err != nil {
		return "", err
	}
	s, err := r.newSession(m, key, shape)
	if err != nil {
		r.release(m, false)
		return "", err
	}
	fail := func(err error) (string, error) {
		s.close("join failed")
		r.release(m, false)
		return "", err
	}
	answer, err := s.negotiate(ctx, req.OfferSDP)
	if err != nil {
		return fail(err)
	}
	old, ok := m.commit(s)
	if !ok {
		return fail(fmt.Errorf("%w: the connection closed while joining", ErrClosed))
	}
	r.committed(m)
	select {
	case <-r.done: // Close began before the commit and did not see s
		s.close("relay closing")
		return "", ErrClosed
	default:
	}
	if old != nil {
		old.close("replaced by a newer join of the same device")
	}
	s.start()
	r.log.Infof("meeting %x: %s joins (%d audio, %d video, %d screen slots; publishes %v, simulcast %v)",
		m.id, s.name, shape.audioSlots, shape.videoSlots, boolInt(shape.screenSlot), keys(shape.publishes), shape.simulcast)
	return answer, nil
}

// checkRequest bounds the meeting ID and checks the member's IDs against
// their syntax (internal/ids), so that "user/device" names each member
// once.
func checkRequest(req JoinRequest) error {
	switch {
	case len(req.MeetingID) == 0 || len(req.MeetingID) > maxIDLen:
		return fmt.Errorf("%w: meeting ID of %d bytes, want 1 to %d", ErrBadRequest, len(req.MeetingID), maxIDLen)
	case !ids.ValidUser(req.User):
		return fmt.Errorf("%w: user %.40q: want %s", ErrBadRequest, req.User, ids.UserRule)
	case !ids.ValidDevice(req.Device):
		return fmt.Errorf("%w: device %.40q: want %s", ErrBadRequest, req.Device, ids.DeviceRule)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for _, k := range []string{midAudio, midCamera, midScreen} {
		if m[k] {
			out = append(out, k)
		}
	}
	return out
}
