package keyschedule

import (
	"encoding/binary"
	"fmt"
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
type Context struct {
	ChainID    string
	MeetingID  []byte // MeetingIDSize bytes
	Epoch      uint64
	RosterHash []byte // RosterHashSize bytes
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
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c.appendTo(make([]byte, 0, c.encodedLen())), nil
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

// labeled returns label || ctx for a context that Validate accepted.
func labeled(label string, c Context) []byte {
	b := make([]byte, 0, len(label)+c.encodedLen())
	b = append(b, label...)
	return c.appendTo(b)
}

// clone returns a context that shares no memory with c.
func (c Context) clone() Context {
	c.MeetingID = append([]byte(nil), c.MeetingID...)
	c.RosterHash = append([]byte(nil), c.RosterHash...)
	return c
}
