package mailbox

import "time"

// Clock tells the time. The mailbox judges expiry and skew by the node's
// own clock; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}
