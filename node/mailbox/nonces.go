package mailbox

import (
	"fmt"
	"sync"
	"time"
)

// nonceSet remembers signed requests' (user, device, nonce) until their
// request leaves the window, so that each is accepted once: all the state
// a signed request costs the node.
type nonceSet struct {
	max int

	mu   sync.Mutex
	seen map[string]time.Time // (user, device, nonce) → when it leaves the window
}

func newNonceSet(max int) *nonceSet {
	return &nonceSet{max: max, seen: make(map[string]time.Time)}
}

// use records (user, device, nonce) until until, and refuses it if it was
// already there, or if max are kept and none has expired.
func (n *nonceSet) use(user, device string, nonce []byte, until, now time.Time, window time.Duration) error {
	key := user + "\x00" + device + "\x00" + string(nonce)
	n.mu.Lock()
	defer n.mu.Unlock()
	if exp, ok := n.seen[key]; ok && now.Before(exp) {
		return fmt.Errorf("%w: nonce %x of device %s/%s was used at this node already; sign a new request",
			ErrReplayedRequest, nonce, user, device)
	}
	if len(n.seen) >= n.max {
		for k, exp := range n.seen {
			if !now.Before(exp) {
				delete(n.seen, k)
			}
		}
		if len(n.seen) >= n.max {
			return fmt.Errorf("%w: %d requests in the last %v; try again shortly", ErrTooManyRequests, len(n.seen), 2*window)
		}
	}
	n.seen[key] = until
	return nil
}

// count returns the number of nonces kept.
func (n *nonceSet) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.seen)
}
