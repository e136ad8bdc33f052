package keyschedule

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestContextValidate(t *testing.T) {
	ok := testContext(1)
	tests := []struct {
		name    string
		mutate  func(*Context)
		wantErr string // empty: valid
	}{
		{"valid", func(*Context) {}, ""},
		{"chain id of 1 byte", func(c *Context) { c.ChainID = "x" }, ""},
		{"chain id of 255 bytes", func(c *Context) { c.ChainID = strings.Repeat("c", 255) }, ""},
		{"empty chain id", func(c *Context) { c.ChainID = "" }, "chain_id is empty"},
		{"chain id of 256 bytes", func(c *Context) { c.ChainID = strings.Repeat("c", 256) }, "chain_id is 256 bytes"},
		{"nil meeting id", func(c *Context) { c.MeetingID = nil }, "meeting_id is 0 bytes"},
		{"meeting id of 15 bytes", func(c *Context) { c.MeetingID = make([]byte, 15) }, "meeting_id is 15 bytes"},
		{"meeting id of 17 bytes", func(c *Context) { c.MeetingID = make([]byte, 17) }, "meeting_id is 17 bytes"},
		{"roster hash of 31 bytes", func(c *Context) { c.RosterHash = make([]byte, 31) }, "roster_hash is 31 bytes"},
		{"roster hash of 33 bytes", func(c *Context) { c.RosterHash = make([]byte, 33) }, "roster_hash is 33 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok.clone()
			tt.mutate(&c)
			err := c.Validate()
			_, bytesErr := c.Bytes()
			_, newErr := NewContext(c.ChainID, c.MeetingID, c.Epoch, c.RosterHash)
			if fmt.Sprint(newErr) != fmt.Sprint(err) {
				t.Fatalf("NewContext() error = %v, Validate() = %v: want the same", newErr, err)
			}
			if tt.wantErr == "" {
				if err != nil || bytesErr != nil {
					t.Fatalf("Validate() = %v, Bytes() error = %v, want nil", err, bytesErr)
				}
				return
			}
			if !errors.Is(err, ErrInvalidContext) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want ErrInvalidContext mentioning %q", err, tt.wantErr)
			}
			if !errors.Is(bytesErr, ErrInvalidContext) {
				t.Fatalf("Bytes() error = %v, want ErrInvalidContext", bytesErr)
			}
		})
	}
}

// TestContextBytes pins the context layout byte by byte.
func TestContextBytes(t *testing.T) {
	c := Context{
		ChainID:    "ab",
		MeetingID:  bytes.Repeat([]byte{0x11}, 16),
		Epoch:      0x0102030405060708,
		RosterHash: bytes.Repeat([]byte{0x22}, 32),
	}
	want := "02" + "6162" +
		strings.Repeat("11", 16) +
		"0102030405060708" +
		strings.Repeat("22", 32)
	got, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != want {
		t.Fatalf("Bytes() = %x\nwant      %s", got, want)
	}
}

// TestNewContext checks that a context from NewContext encodes as the same
// fields written as a literal, and that it keeps its own copies of the
// slices it was given.
func TestNewContext(t *testing.T) {
	lit := testContext(3).clone()
	meeting, roster := bytes.Clone(lit.MeetingID), bytes.Clone(lit.RosterHash)
	c, err := NewContext(lit.ChainID, meeting, lit.Epoch, roster)
	if err != nil {
		t.Fatal(err)
	}
	want, err := lit.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	meeting[0] ^= 0xff
	roster[0] ^= 0xff
	got, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Bytes() = %x, want %x", got, want)
	}
	got[0] ^= 0xff
	if again, _ := c.Bytes(); !bytes.Equal(again, want) {
		t.Fatal("Bytes() hands out the context's own encoding")
	}
}

// TestNewContextAndLiteralAgree checks that every function taking a
// Context gives the same result for one from NewContext as for the same
// fields written as a literal, and that envelopes sealed with either open
// with the other.
func TestNewContextAndLiteralAgree(t *testing.T) {
	f := newFixture(t, 1)
	lit := f.ctx.clone()
	for _, tc := range []struct {
		name string
		c    Context
	}{{"from NewContext", f.ctx}, {"literal", lit}} {
		t.Run(tc.name, func(t *testing.T) {
			commitment, err := Commit(f.mk, tc.c)
			if err != nil || !bytes.Equal(commitment, f.commitment) {
				t.Fatalf("Commit() = %x, %v; want %x", commitment, err, f.commitment)
			}
			code, err := SecurityCode(tc.c, f.commitment)
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := SecurityCode(lit, f.commitment); code != want {
				t.Fatalf("SecurityCode() = %q, want %q", code, want)
			}
			env, err := Seal(f.leader, tc.c, f.mk, f.members[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, other := range []Context{f.ctx, lit} {
				want := f.expect()
				want.Context = other
				mk, err := Open(env, f.privs[0], want)
				if err != nil || !bytes.Equal(mk, f.mk) {
					t.Fatalf("Open() = %x, %v; want the meeting key", mk, err)
				}
			}
		})
	}
}
