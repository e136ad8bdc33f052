package call

import (
	"errors"
	"testing"
	"time"

	"github.com/parleynet/parley/internal/ids"
)

func TestOffers(t *testing.T) {
	for _, tc := range []struct {
		a, b ids.DeviceRef
		want bool
	}{
		{ids.DeviceRef{User: "alice", Device: "laptop"}, ids.DeviceRef{User: "bob", Device: "phone"}, true},
		{ids.DeviceRef{User: "bob", Device: "phone"}, ids.DeviceRef{User: "alice", Device: "laptop"}, false},
		{ids.DeviceRef{User: "alice", Device: "a"}, ids.DeviceRef{User: "alice", Device: "b"}, true},
		// "a-b/x" < "a/y" bytewise, although "a" < "a-b".
		{ids.DeviceRef{User: "a-b", Device: "x"}, ids.DeviceRef{User: "a", Device: "y"}, true},
		// Same "user/device" string: (user, device) decides.
		{ids.DeviceRef{User: "a/b", Device: "c"}, ids.DeviceRef{User: "a", Device: "b/c"}, false},
		{ids.DeviceRef{User: "a", Device: "b/c"}, ids.DeviceRef{User: "a/b", Device: "c"}, true},
	} {
		if got := offers(tc.a, tc.b); got != tc.want {
			t.Errorf("offers(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestFingerprintChecks(t *testing.T) {
	const fp = "sha-256 AB:CD:EF"
	sdp := func(lines ...string) string {
		s := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
		for _, l := range lines {
			s += l + "\r\n"
		}
		return s
	}
	media := "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0"
	for _, tc := range []struct {
		name   string
		signed string
		sdp    string
		want   error
	}{
		{"session level", fp, sdp("a=fingerprint:" + fp), nil},
		{"media level, other case", "SHA-256 ab:cd:ef", sdp(media, "a=fingerprint:"+fp), nil},
		{"both levels", fp, sdp("a=fingerprint:"+fp, media, "a=fingerprint:"+fp), nil},
		{"differs", fp, sdp("a=fingerprint:sha-256 AB:CD:EE"), ErrFingerprintMismatch},
		{"other algorithm", fp, sdp("a=fingerprint:sha-1 AB:CD:EF"), ErrFingerprintMismatch},
		{"one of two differs", fp, sdp("a=fingerprint:"+fp, media, "a=fingerprint:sha-256 00"), ErrFingerprintMismatch},
		{"none in SDP", fp, sdp(), ErrFingerprintMismatch},
		{"signed is not a fingerprint", "AB:CD:EF", sdp("a=fingerprint:" + fp), ErrFingerprintMismatch},
		{"SDP fingerprint malformed", fp, sdp("a=fingerprint:AB"), ErrMalformedSignal},
		{"not SDP", fp, "hello", ErrMalformedSignal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkSDPFingerprint(tc.signed, tc.sdp)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("checkSDPFingerprint: %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzCheckSDPFingerprint(f *testing.F) {
	f.Add("sha-256 AB:CD", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AB:CD\r\n")
	f.Add("", "v=0\r\n")
	f.Fuzz(func(t *testing.T, signed, sdp string) {
		got, err := checkSDPFingerprint(signed, sdp)
		if err != nil {
			if !errors.Is(err, ErrFingerprintMismatch) && !errors.Is(err, ErrMalformedSignal) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if want, ok := normalizeFingerprint(signed); !ok || got != want {
			t.Fatalf("accepted %q as %q", signed, got)
		}
	})
}

func TestSignalReplayWindow(t *testing.T) {
	var r sigReplay
	a, b := ids.DeviceRef{User: "a", Device: "1"}, ids.DeviceRef{User: "b", Device: "1"}
	var s1, s2 SessionID
	s2[0] = 1
	step := func(from ids.DeviceRef, s SessionID, seq uint64, want error) {
		t.Helper()
		err := r.check(from, s, seq)
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Fatalf("check(%v, %x, %d) = %v, want %v", from, s[0], seq, err, want)
		}
		if err == nil {
			r.accept(from, s, seq)
		}
	}
	step(a, s1, 0, ErrReplayedSignal)
	step(a, s1, 1, nil)
	step(a, s1, 1, ErrReplayedSignal)
	step(b, s1, 1, nil) // other sender
	step(a, s2, 1, nil) // other session
	step(a, s1, 5, nil)
	step(a, s1, 3, nil) // late, in the window
	step(a, s1, 3, ErrReplayedSignal)
	step(a, s1, 5+signalWindow, nil)
	step(a, s1, 5, ErrReplayedSignal) // fell out of the window
	step(a, s1, 6, nil)               // 63 behind: still in the window
	step(a, s1, 6, ErrReplayedSignal)
	step(a, s1, 7+signalWindow, nil)
	for i := range maxSessionsPerSender - 2 {
		var s SessionID
		s[0], s[1], s[2] = 2, byte(i), byte(i>>8)
		step(a, s, 1, nil)
	}
	var last SessionID
	last[0] = 3
	step(a, last, 1, ErrUnexpectedSignal)
	step(a, s1, 8+signalWindow, nil) // known sessions still work
}

func TestOpusDuration(t *testing.T) {
	for _, tc := range []struct {
		pkt  []byte
		want time.Duration
		ok   bool
	}{
		{[]byte{0xfc}, 20 * time.Millisecond, true},         // CELT FB 20 ms
		{[]byte{0x78}, 20 * time.Millisecond, true},         // Hybrid FB 20 ms
		{[]byte{0x08}, 20 * time.Millisecond, true},         // SILK NB 20 ms
		{[]byte{0x18}, 60 * time.Millisecond, true},         // SILK NB 60 ms
		{[]byte{0x80}, 2500 * time.Microsecond, true},       // CELT NB 2.5 ms
		{[]byte{0xfd, 0}, 40 * time.Millisecond, true},      // two frames
		{[]byte{0xfb, 0x03}, 60 * time.Millisecond, true},   // code 3: three CELT 20 ms frames
		{[]byte{0x1b, 0x03}, 180 * time.Millisecond, false}, // 3 x 60 ms > 120 ms
		{[]byte{0xff}, 0, false},                            // code 3 without count
		{[]byte{0xff, 0x00}, 0, false},                      // zero frames
		{nil, 0, false},
	} {
		got, err := opusDuration(tc.pkt)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("opusDuration(%x) = %v, %v; want %v, ok=%v", tc.pkt, got, err, tc.want, tc.ok)
		}
	}
}

func TestRosterViewForKID(t *testing.T) {
	a, b, c := Member{UserID: "a", DeviceID: "1"}, Member{UserID: "b", DeviceID: "1"}, Member{UserID: "c", DeviceID: "1"}
	cur := &roster{number: 257, members: []Member{a, b}, index: map[ids.DeviceRef]int{a.id(): 0, b.id(): 1}}
	prev := &roster{number: 256, members: []Member{c, a}, index: map[ids.DeviceRef]int{c.id(): 0, a.id(): 1}}
	v := &rosterView{cur: cur, prev: prev}
	for _, tc := range []struct {
		kid  uint64
		want *roster
	}{
		{kidOf(1, 257), cur}, {kidOf(0, 256), prev}, {kidOf(0, 258), nil},
	} {
		if got := v.forKID(tc.kid); got != tc.want {
			t.Errorf("forKID(%d) = %v, want %v", tc.kid, got, tc.want)
		}
	}
	var e Engine
	for _, tc := range []struct {
		id   ids.DeviceRef
		kid  uint64
		want bool
	}{
		{ids.DeviceRef{User: "a", Device: "1"}, kidOf(0, 257), true},
		{ids.DeviceRef{User: "a", Device: "1"}, kidOf(1, 256), true}, // previous epoch, previous index
		{ids.DeviceRef{User: "a", Device: "1"}, kidOf(1, 257), false},
		{ids.DeviceRef{User: "b", Device: "1"}, kidOf(0, 256), false}, // not in the previous roster
		{ids.DeviceRef{User: "b", Device: "1"}, kidOf(5, 99), true},   // epoch not held: the keyring decides
	} {
		if err := e.expectKID(v, tc.id, tc.kid); (err == nil) != tc.want {
			t.Errorf("expectKID(%v, %d) = %v, want ok=%v", tc.id, tc.kid, err, tc.want)
		}
	}
}
