package sframe

import (
	"errors"
	"testing"
)

// TestSenderStage: a staged key is derived but not used until Switch to
// its epoch; a wrong epoch does not switch; a newer Stage erases the
// older staged key; SetEpoch past it erases it; EraseAll erases it.
func TestSenderStage(t *testing.T) {
	s, _ := newPair(t, 2)
	if err := s.Stage(testEpoch+1, testMK, 3); err != nil {
		t.Fatal(err)
	}
	if h := headerOf(t, mustEncrypt(t, s, CodecOpus, opusFrame), 1); h.KID != SenderKID(1, testEpoch) {
		t.Fatalf("staged key used before Switch: %+v", h)
	}
	if e, ok := s.Staged(); !ok || e != testEpoch+1 {
		t.Fatalf("Staged = %d, %v", e, ok)
	}
	if s.Switch(testEpoch + 2) {
		t.Fatal("switched to an epoch not staged")
	}
	if err := s.Stage(testEpoch+1, testMK, 3); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("staging the staged epoch again: %v", err)
	}
	older := s.staged.key
	if err := s.Stage(testEpoch+2, testMK, 3); err != nil {
		t.Fatal(err)
	}
	if !isZero(older.salt[:]) || older.aead != nil {
		t.Fatal("replaced staged key not erased")
	}
	old := s.cur.key
	if !s.Switch(testEpoch + 2) {
		t.Fatal("Switch to the staged epoch refused")
	}
	if !isZero(old.salt[:]) || old.aead != nil {
		t.Fatal("old key not erased on Switch")
	}
	if h := headerOf(t, mustEncrypt(t, s, CodecOpus, opusFrame), 1); h.KID != SenderKID(3, testEpoch+2) || h.CTR != 0 {
		t.Fatalf("after Switch: %+v", h)
	}
	if s.Epoch() != testEpoch+2 {
		t.Fatalf("Epoch = %d", s.Epoch())
	}

	if err := s.Stage(testEpoch+3, testMK, 3); err != nil {
		t.Fatal(err)
	}
	staged := s.staged.key
	if err := s.SetEpoch(testEpoch+4, testMK, 3); err != nil {
		t.Fatal(err)
	}
	if !isZero(staged.salt[:]) || s.staged != nil {
		t.Fatal("staged key kept past a newer SetEpoch")
	}
	if err := s.Stage(testEpoch+5, testMK, 3); err != nil {
		t.Fatal(err)
	}
	staged = s.staged.key
	s.EraseAll()
	if !isZero(staged.salt[:]) || staged.aead != nil {
		t.Fatal("staged key not erased on EraseAll")
	}
	if err := s.Stage(testEpoch+6, testMK, 3); !errors.Is(err, ErrClosed) {
		t.Fatalf("Stage after EraseAll: %v", err)
	}
}

// TestSenderFirstStageSends: before any epoch there is nothing to keep
// sending under, so the first Stage is used at once.
func TestSenderFirstStageSends(t *testing.T) {
	s, err := NewSender()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stage(7, testMK, 0); err != nil {
		t.Fatal(err)
	}
	if kid, ok := s.KID(); !ok || kid != SenderKID(0, 7) {
		t.Fatalf("KID = %d, %v", kid, ok)
	}
}
