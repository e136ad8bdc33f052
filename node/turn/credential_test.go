package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the scheme under test
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 500_000_000, time.UTC)

func newCreds(clock Clock) *credentials {
	return &credentials{secret: []byte("0123456789abcdef0123456789abcdef"), ttl: 10 * time.Minute, grace: time.Hour, clock: clock}
}

// TestCredentialScheme checks the bytes against the scheme as TURN
// servers implement it: username "expiry:id", password
// base64(HMAC-SHA1(secret, username)).
func TestCredentialScheme(t *testing.T) {
	clock := &fakeClock{now: t0}
	c := newCreds(clock)
	cred := c.issue("alice/laptop")
	exp, id, ok := strings.Cut(cred.Username, ":")
	if !ok {
		t.Fatalf("username %q has no colon", cred.Username)
	}
	// Rounded up to the next second.
	if want := strconv.FormatInt(t0.Add(10*time.Minute).Unix()+1, 10); exp != want {
		t.Errorf("expiry %s, want %s", exp, want)
	}
	if !cred.Expires.Equal(time.Unix(t0.Add(10*time.Minute).Unix()+1, 0)) {
		t.Errorf("Expires %v", cred.Expires)
	}
	if len(id) != opaqueIDLen || strings.Contains(id, "alice") {
		t.Errorf("opaque ID %q", id)
	}
	m := hmac.New(sha1.New, c.secret)
	m.Write([]byte(cred.Username))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); cred.Password != want {
		t.Errorf("password %q, want %q", cred.Password, want)
	}
	// Same device, same ID; another device or secret, another ID.
	if again := c.issue("alice/laptop"); !strings.HasSuffix(again.Username, ":"+id) {
		t.Error("the same device got another opaque ID")
	}
	if other := c.issue("alice/phone"); strings.HasSuffix(other.Username, ":"+id) {
		t.Error("two devices share an opaque ID")
	}
	c2 := *c
	c2.secret = []byte("another-secret-another-secret---")
	if c2.opaqueID("alice/laptop") == id {
		t.Error("the opaque ID does not depend on the secret")
	}
	gotID, pw, err := c.check(cred.Username, true)
	if err != nil || gotID != id || pw != cred.Password {
		t.Fatalf("check of a fresh credential: %q %q %v", gotID, pw, err)
	}
}

func TestCredentialCheck(t *testing.T) {
	clock := &fakeClock{now: t0}
	c := newCreds(clock)
	cred := c.issue("bob/phone")
	id := cred.Username[strings.Index(cred.Username, ":")+1:]
	cases := []struct {
		name       string
		username   string
		advance    time.Duration
		allocating bool
		want       error
	}{
		{"fresh, allocate", cred.Username, 0, true, nil},
		{"fresh, refresh", cred.Username, 0, false, nil},
		{"just before expiry", cred.Username, 10*time.Minute - time.Millisecond, true, nil},
		{"expired, allocate", cred.Username, 10*time.Minute + time.Second, true, ErrCredentialExpired},
		{"expired, refresh within grace", cred.Username, 10*time.Minute + time.Second, false, nil},
		{"expired, refresh past grace", cred.Username, 10*time.Minute + time.Hour + time.Second, false, ErrCredentialExpired},
		{"no colon", "1700000000" + id, 0, true, ErrBadCredential},
		{"empty expiry", ":" + id, 0, true, ErrBadCredential},
		{"negative expiry", "-5:" + id, 0, true, ErrBadCredential},
		{"plus sign", "+1900000000:" + id, 0, true, ErrBadCredential},
		{"expiry not a number", "soon:" + id, 0, true, ErrBadCredential},
		{"huge expiry", "99999999999999999999:" + id, 0, true, ErrBadCredential},
		{"short ID", "1900000000:abc", 0, true, ErrBadCredential},
		{"ID not base64url", "1900000000:" + strings.Repeat("*", opaqueIDLen), 0, true, ErrBadCredential},
		{"coturn-style user name", "1900000000:alice", 0, true, ErrBadCredential},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := &fakeClock{now: t0.Add(tc.advance)}
			cc := *c
			cc.clock = cl
			_, _, err := cc.check(tc.username, tc.allocating)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("check = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("a later expiry written into a stolen username changes the password", func(t *testing.T) {
		forged := strconv.FormatInt(t0.Add(24*time.Hour).Unix(), 10) + ":" + id
		_, pw, err := c.check(forged, true)
		if err != nil {
			t.Fatal(err)
		}
		if pw == cred.Password {
			t.Fatal("the password does not cover the expiry")
		}
	})
}

func FuzzCredentialCheck(f *testing.F) {
	c := newCreds(&fakeClock{now: t0})
	f.Add(c.issue("alice/laptop").Username)
	f.Add("")
	f.Add(":")
	f.Add("1:" + strings.Repeat("A", opaqueIDLen))
	f.Fuzz(func(t *testing.T, username string) {
		id, pw, err := c.check(username, true)
		if err != nil {
			return
		}
		if len(id) != opaqueIDLen || pw != c.password(username) {
			t.Fatalf("accepted %q with ID %q", username, id)
		}
	})
}

func TestPeerAllowed(t *testing.T) {
	for _, tc := range []struct {
		ip            string
		public, lanOK bool
	}{
		{"203.0.113.7", true, true},
		{"8.8.8.8", true, true},
		{"2001:db8::1", true, true},
		{"10.1.2.3", false, true},
		{"192.168.0.1", false, true},
		{"172.16.5.5", false, true},
		{"fd00::1", false, true},
		{"127.0.0.1", false, false},
		{"::1", false, false},
		{"::ffff:127.0.0.1", false, false},
		{"169.254.1.1", false, false},
		{"fe80::1", false, false},
		{"224.0.0.1", false, false},
		{"0.0.0.0", false, false},
		{"255.255.255.255", false, false},
	} {
		ip := parseIP(t, tc.ip)
		if got := peerAllowed(ip, false); got != tc.public {
			t.Errorf("peerAllowed(%s, false) = %v", tc.ip, got)
		}
		if got := peerAllowed(ip, true); got != tc.lanOK {
			t.Errorf("peerAllowed(%s, true) = %v", tc.ip, got)
		}
	}
}
