package identity

import (
	"crypto/ed25519"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func testLink(t testing.TB) LinkRequest {
	pub, priv, _ := ed25519.GenerateKey(nil)
	return LinkRequest{UserID: "alice", DeviceID: "phone", Seq: 7, PubKey: pub, PopSig: ed25519.Sign(priv, []byte("x"))}
}

func TestLinkTokenRoundTrip(t *testing.T) {
	r := testLink(t)
	tok := r.Encode()
	if !strings.HasPrefix(tok, "parley-link-v1:") || len(tok) > 200 {
		t.Fatalf("token %q (%d chars)", tok, len(tok))
	}
	// Line breaks and spaces from copying do not matter.
	got, err := DecodeLink(" " + tok[:40] + "\n" + tok[40:] + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != r.UserID || got.DeviceID != r.DeviceID || got.Seq != r.Seq || !got.PubKey.Equal(r.PubKey) || string(got.PopSig) != string(r.PopSig) {
		t.Fatalf("round trip: %+v, want %+v", got, r)
	}
}

func TestLinkTokenRejects(t *testing.T) {
	good := testLink(t)
	enc := func(mod func(*LinkRequest)) string { r := good; mod(&r); return r.Encode() }
	tok := good.Encode()
	for name, bad := range map[string]string{
		"approval token":  "parley-approval-v1:" + strings.TrimPrefix(tok, linkPrefix),
		"not base64":      linkPrefix + "!!!",
		"cut short":       tok[:len(tok)-10],
		"trailing bytes":  tok + "AAAA",
		"short key":       enc(func(r *LinkRequest) { r.PubKey = r.PubKey[:31] }),
		"short signature": enc(func(r *LinkRequest) { r.PopSig = r.PopSig[:63] }),
		"bad user":        enc(func(r *LinkRequest) { r.UserID = "Al" }),
		"bad device":      enc(func(r *LinkRequest) { r.DeviceID = "a/b" }),
	} {
		if _, err := DecodeLink(bad); !errors.Is(err, ErrBadLink) {
			t.Errorf("%s: %v, want ErrBadLink", name, err)
		}
	}
}

func TestLinkCode(t *testing.T) {
	r := testLink(t)
	c := LinkCode("parley-test", r.UserID, r.DeviceID, r.PubKey)
	if !regexp.MustCompile(`^\d{5} \d{5} \d{5} \d{5}$`).MatchString(c) {
		t.Fatalf("code %q", c)
	}
	if c != LinkCode("parley-test", r.UserID, r.DeviceID, r.PubKey) {
		t.Fatal("not deterministic")
	}
	other := testLink(t)
	for name, d := range map[string]string{
		"key":    LinkCode("parley-test", r.UserID, r.DeviceID, other.PubKey),
		"device": LinkCode("parley-test", r.UserID, "tablet", r.PubKey),
		"user":   LinkCode("parley-test", "bob", r.DeviceID, r.PubKey),
		"chain":  LinkCode("other", r.UserID, r.DeviceID, r.PubKey),
	} {
		if d == c {
			t.Errorf("another %s gives the same code", name)
		}
	}
	if !SameCode(strings.ReplaceAll(c, " ", "-"), c) || !SameCode(strings.ReplaceAll(c, " ", ""), c) || SameCode("", c) || SameCode("00000 00000 00000 00000", c) && c != "00000 00000 00000 00000" {
		t.Error("SameCode")
	}
}

func FuzzDecodeLink(f *testing.F) {
	f.Add(testLink(f).Encode())
	f.Add(linkPrefix)
	f.Add(linkPrefix + "AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := DecodeLink(s)
		if err != nil {
			return
		}
		back, err := DecodeLink(r.Encode())
		if err != nil || back.Encode() != r.Encode() {
			t.Fatalf("re-encoding a decoded token: %v", err)
		}
	})
}
