package sfu

import (
	"testing"

	"golang.org/x/time/rate"

	"github.com/parleynet/parley/internal/ids"
)

// FuzzMessage: nothing a client sends on its data channel panics the
// relay or grows its state past the limits.
func FuzzMessage(f *testing.F) {
	r, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close()
	m := newMeeting(r, []byte("m"))
	key := ids.DeviceRef{User: "user0", Device: "dev"}
	s := &session{relay: r, meeting: m, key: key, name: key.String(), opaque: rate.NewLimiter(opaqueRate, opaqueBurst), prefs: rate.NewLimiter(prefsRate, prefsBurst), committed: true}
	m.sessions[key] = s
	m.byName[s.name] = s
	m.order = append(m.order, s)
	for _, seed := range []string{
		"\x02{\"pin\":[\"user1/dev\",\"user2/dev\"]}", "\x02{", "\x02null", "\x02{\"pin\":[1]}",
		"\x03signature", "\x01{\"slots\":{}}", "\xff", "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s.onMessage(data)
		if len(s.pins) > maxVideoSlots {
			t.Fatalf("%d pins kept", len(s.pins))
		}
		for _, p := range s.pins {
			if _, ok := ids.ParseDeviceRef(p); !ok {
				t.Fatalf("pin %q kept", p)
			}
		}
	})
}

func TestPinsBounded(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := newMeeting(r, []byte("m"))
	s := &session{relay: r, meeting: m, name: "user0/dev", prefs: rate.NewLimiter(prefsRate, prefsBurst), committed: true}
	pins := []string{"user1/dev", "user1/dev", "Bad/x", "user2/dev"}
	for i := range 40 {
		pins = append(pins, ids.DeviceRef{User: "user" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Device: "d"}.String())
	}
	s.setPins(pins)
	if len(s.pins) != maxVideoSlots || s.pins[0] != "user1/dev" || s.pins[1] != "user2/dev" {
		t.Fatalf("pins %q", s.pins)
	}
}
