package turn

import "time"

// Clock tells the time. The server judges credential expiry and refills
// bandwidth budgets by it; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}
