// Package signbytes is the encoding of every message a Parley device signs:
// a domain, the chain ID and then the fields in order, each byte string
// prefixed by its length as a 2-byte big-endian integer and each number as
// 8 bytes big-endian. Length prefixes make the encoding injective.
//
// It sits below the chain modules (x/identity/types, x/meeting/types) and
// the mailbox API (api/mailbox/v1), which each define their messages with
// it, so that signer and verifier share one definition without the API
// importing a chain module. It must never import anything of Parley's.
package signbytes

import "encoding/binary"

// Builder accumulates sign bytes.
type Builder struct{ buf []byte }

// New starts sign bytes with a domain and the chain ID, which every Parley
// device signature covers.
func New(domain, chainID string) *Builder {
	s := &Builder{buf: make([]byte, 0, 160)}
	return s.String(domain).String(chainID)
}

// String appends a length-prefixed string.
func (s *Builder) String(v string) *Builder { return s.Bytes([]byte(v)) }

// Bytes appends a length-prefixed byte string. Inputs longer than 65535
// bytes are truncated in the prefix only if the caller ignored the module's
// bounds; all fields signed by Parley are far shorter.
func (s *Builder) Bytes(v []byte) *Builder {
	s.buf = binary.BigEndian.AppendUint16(s.buf, uint16(len(v)))
	s.buf = append(s.buf, v...)
	return s
}

// Uint64 appends an 8-byte big-endian number.
func (s *Builder) Uint64(v uint64) *Builder {
	s.buf = binary.BigEndian.AppendUint64(s.buf, v)
	return s
}

// Done returns the encoded message.
func (s *Builder) Done() []byte { return s.buf }
