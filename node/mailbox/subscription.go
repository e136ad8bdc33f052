package mailbox

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// Subscribe returns the stored, unexpired envelopes for recipient to (only
// those of meetingID when it is not empty), oldest first, and a
// subscription that receives the ones added afterwards. Nothing added
// between the two is lost or repeated. The caller must Close the
// subscription.
func (s *Store) Subscribe(to [mailboxv1.RecipientSize]byte, meetingID []byte) (*Subscription, []*mailboxv1.Envelope, error) {
	if len(meetingID) != 0 && len(meetingID) != mailboxv1.MeetingIDSize {
		return nil, nil, fmt.Errorf("%w: meeting_id: want empty or %d bytes, got %d", mailboxv1.ErrInvalidEnvelope, mailboxv1.MeetingIDSize, len(meetingID))
	}
	sub := &Subscription{
		store:   s,
		to:      to,
		meeting: slices.Clone(meetingID),
		ch:      make(chan *mailboxv1.Envelope, s.cfg.SubscriberBuffer),
		done:    make(chan struct{}),
	}
	now := s.cfg.Clock.Now()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, ErrClosed
	}
	if s.nsubs >= s.cfg.MaxSubscribers {
		return nil, nil, fmt.Errorf("%w: %d open", ErrTooManySubscribers, s.nsubs)
	}
	var backlog []*entry
	for en := range s.byTo[to] {
		if now.Before(en.expires) && sub.matches(en.env) {
			backlog = append(backlog, en)
		}
	}
	slices.SortFunc(backlog, func(a, b *entry) int { return cmp.Compare(a.seq, b.seq) })
	envs := make([]*mailboxv1.Envelope, len(backlog))
	for i, en := range backlog {
		envs[i] = en.env
	}
	subs := s.subs[to]
	if subs == nil {
		subs = make(map[*Subscription]struct{})
		s.subs[to] = subs
	}
	subs[sub] = struct{}{}
	s.nsubs++
	return sub, envs, nil
}

// endLocked removes sub and tells its reader why it ended.
func (s *Store) endLocked(sub *Subscription, err error) {
	subs := s.subs[sub.to]
	if _, ok := subs[sub]; !ok {
		return
	}
	delete(subs, sub)
	if len(subs) == 0 {
		delete(s.subs, sub.to)
	}
	s.nsubs--
	sub.err = err
	close(sub.done)
}

// Subscription delivers the envelopes added to a store for one recipient.
type Subscription struct {
	store   *Store
	to      recipient
	meeting []byte
	ch      chan *mailboxv1.Envelope
	done    chan struct{}
	err     error // set before done is closed
}

func (sub *Subscription) matches(e *mailboxv1.Envelope) bool {
	return len(sub.meeting) == 0 || bytes.Equal(sub.meeting, e.MeetingId)
}

// C delivers live envelopes, in the order they were stored.
func (sub *Subscription) C() <-chan *mailboxv1.Envelope { return sub.ch }

// Done is closed when the store ends the subscription: the subscriber was
// too slow or the store closed. Err says which.
func (sub *Subscription) Done() <-chan struct{} { return sub.done }

// Err returns why the subscription ended, once Done is closed.
func (sub *Subscription) Err() error {
	select {
	case <-sub.done:
		return sub.err
	default:
		return nil
	}
}

// Close unsubscribes. It may be called more than once.
func (sub *Subscription) Close() {
	sub.store.mu.Lock()
	defer sub.store.mu.Unlock()
	sub.store.endLocked(sub, ErrClosed)
}

func (s *Store) publishLocked(en *entry) {
	for sub := range s.subs[en.to] {
		if !sub.matches(en.env) {
			continue
		}
		select {
		case sub.ch <- en.env:
		default:
			s.endLocked(sub, fmt.Errorf("%w: %d envelopes waiting; subscribe again", ErrSlowSubscriber, cap(sub.ch)))
		}
	}
}
