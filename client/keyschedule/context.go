package keyschedule

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// Sizes of the context fields.
const (
	MaxChainIDLen  = 255 // the chain ID's length prefix is one byte
	MeetingIDSize  = 16
	RosterHashSize = 32
)

// Context names one epoch of one meeting on one chain. Its encoding (see
// Bytes) follows every label of the key schedule, so a key, commitment,
// envelope or security code of one epoch is never valid for another.
//
// Build it with NewContext, which checks it once: Commit, Seal, SealAll,
// SecurityCode and Open then use the encoding it made without checking
// again. Change no field of a Context NewContext returned; make another.
// A Context written as a literal is still accepted, and checked and
// encoded at each use.
type Context struct {
	ChainID    string
	MeetingID  []byte // MeetingIDSize bytes
	Epoch      uint64
	RosterHash []byte // RosterHashSize bytes

	// enc is the encoding of the fields NewContext checked; nil in a
	// Context written as a literal.
	enc []byte
}

// NewContext returns the context of epoch of meetingID on chainID, whose
// roster hashes to rosterHash, or, wrapping ErrInvalidContext, the first
// field whose length is not allowed. It copies meetingID and rosterHash.
func NewContext(chainID string, meetingID []byte, epoch uint64, rosterHash []byte) (Context, error) {
	c := Context{ChainID: chainID, MeetingID: bytes.Clone(meetingID), Epoch: epoch, RosterHash: bytes.Clone(rosterHash)}
	if err := c.Validate(); err != nil {
		return Context{}, err
	}
	c.enc = c.appendTo(make([]byte, 0, c.encodedLen()))
	return c, nil
}

// checked returns c as NewContext returns it: c itself if it came from
// NewContext, else c checked and encoded now.
func (c Context) checked() (Context, error) {
	if c.enc != nil {
		return c, nil
	}
	return NewContext(c.ChainID, c.MeetingID, c.Epoch, c.RosterHash)
}

// Validate reports, wrapping ErrInvalidContext, the first field whose length
// is not allowed.
func (c Context) Validate() error {
	switch {
	case len(c.ChainID) == 0:
		return fmt.Errorf("%w: chain_id is empty", ErrInvalidContext)
	case len(c.ChainID) > MaxChainIDLen:
		return fmt.Errorf("%w: chain_id is %d bytes, at most %d allowed", ErrInvalidContext, len(c.ChainID), MaxChainIDLen)
	case len(c.MeetingID) != MeetingIDSize:
		return fmt.Errorf("%w: meeting_id is %d bytes, want %d", ErrInvalidContext, len(c.MeetingID), MeetingIDSize)
	case len(c.RosterHash) != RosterHashSize:
		return fmt.Errorf("%w: roster_hash is %d bytes, want %d", ErrInvalidContext, len(c.RosterHash), RosterHashSize)
	}
	return nil
}

// Bytes returns the context encoding
//
//	u8(len(chain_id)) || chain_id || meeting_id (16) || u64_be(epoch) || roster_hash (32)
func (c Context) Bytes() ([]byte, error) {
	c, err := c.checked()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(c.enc), nil
}

func (c Context) encodedLen() int {
	return 1 + len(c.ChainID) + MeetingIDSize + 8 + RosterHashSize
}

// appendTo appends the encoding of a context that Validate accepted.
func (c Context) appendTo(b []byte) []byte {
	b = append(b, byte(len(c.ChainID)))
	b = append(b, c.ChainID...)
	b = append(b, c.MeetingID...)
	b = binary.BigEndian.AppendUint64(b, c.Epoch)
	return append(b, c.RosterHash...)
}

// labeled returns label || ctx for a context from checked.
func (c Context) labeled(label string) []byte {
	return slices.Concat([]byte(label), c.enc)
}

// clone returns a copy of c's fields that shares no memory with c, as a
// literal (checked again at its next use).
func (c Context) clone() Context {
	return Context{ChainID: c.ChainID, MeetingID: bytes.Clone(c.MeetingID), Epoch: c.Epoch, RosterHash: bytes.Clone(c.RosterHash)}
}
