package framesig

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

const (
	// Version is the first byte of every batch.
	Version = 1
	// DigestSize is the length of a frame digest.
	DigestSize = 16
	// MeetingIDSize is the length of a meeting ID.
	MeetingIDSize = 16
	// MaxChainIDLen is the longest chain ID (its length is one byte).
	MaxChainIDLen = 255
	// MaxBatch is the most frames one batch covers.
	MaxBatch = 512
	// BatchHeaderSize is the length of a batch before its digests:
	// version, epoch, KID, first_ctr and n.
	BatchHeaderSize = 1 + 8 + 8 + 8 + 2
	// MaxMessageSize is the length of a message of MaxBatch digests.
	MaxMessageSize = BatchHeaderSize + MaxBatch*DigestSize + ed25519.SignatureSize
)

const (
	digestLabel = "parley/v1/frame"
	signLabel   = "parley/v1/frame-sig"
)

var digestLabelBytes = []byte(digestLabel)

// Digest returns digest(frame) = SHA-256("parley/v1/frame" || frame)[:16],
// of the sealed frame exactly as sent.
func Digest(frame []byte) [DigestSize]byte {
	return (&digester{h: sha256.New()}).digest(frame)
}

// digester computes digests without allocating; its owner serialises it.
type digester struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func newDigester() digester { return digester{h: sha256.New()} }

func (d *digester) digest(frame []byte) (out [DigestSize]byte) {
	d.h.Reset()
	d.h.Write(digestLabelBytes)
	d.h.Write(frame)
	copy(out[:], d.h.Sum(d.sum[:0]))
	return out
}

// signedPrefix returns "parley/v1/frame-sig" || u8(len(chain_id)) ||
// chain_id || meeting_id, the bytes signed before a batch.
func signedPrefix(chainID string, meetingID []byte) ([]byte, error) {
	if len(chainID) < 1 || len(chainID) > MaxChainIDLen {
		return nil, fmt.Errorf("%w: chain ID of %d bytes, want 1..%d", ErrInvalidArgument, len(chainID), MaxChainIDLen)
	}
	if len(meetingID) != MeetingIDSize {
		return nil, fmt.Errorf("%w: meeting ID of %d bytes, want %d", ErrInvalidArgument, len(meetingID), MeetingIDSize)
	}
	p := make([]byte, 0, len(signLabel)+1+len(chainID)+MeetingIDSize)
	p = append(p, signLabel...)
	p = append(p, byte(len(chainID)))
	p = append(p, chainID...)
	return append(p, meetingID...), nil
}

// appendBatchHeader appends a batch's header with n = 0; putBatchLen sets
// n once the batch is finished.
func appendBatchHeader(dst []byte, epoch, kid, firstCtr uint64) []byte {
	dst = append(dst, Version)
	dst = binary.BigEndian.AppendUint64(dst, epoch)
	dst = binary.BigEndian.AppendUint64(dst, kid)
	dst = binary.BigEndian.AppendUint64(dst, firstCtr)
	return append(dst, 0, 0)
}

func putBatchLen(batch []byte, n int) {
	binary.BigEndian.PutUint16(batch[BatchHeaderSize-2:], uint16(n))
}

// message is a parsed signature message; its slices alias the input.
type message struct {
	epoch, kid, first uint64
	n                 int
	batch             []byte // the signed part, header and digests
	sig               []byte
}

func (m *message) digest(i int) (d [DigestSize]byte) {
	copy(d[:], m.batch[BatchHeaderSize+i*DigestSize:])
	return d
}

// parseMessage decodes msg, refusing any encoding the Signer would not
// produce.
func parseMessage(msg []byte) (message, error) {
	if len(msg) < BatchHeaderSize+DigestSize+ed25519.SignatureSize {
		return message{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrMalformed, len(msg), BatchHeaderSize+DigestSize+ed25519.SignatureSize)
	}
	if msg[0] != Version {
		return message{}, fmt.Errorf("%w: version %d, want %d", ErrMalformed, msg[0], Version)
	}
	m := message{
		epoch: binary.BigEndian.Uint64(msg[1:9]),
		kid:   binary.BigEndian.Uint64(msg[9:17]),
		first: binary.BigEndian.Uint64(msg[17:25]),
		n:     int(binary.BigEndian.Uint16(msg[25:27])),
	}
	if m.n < 1 || m.n > MaxBatch {
		return message{}, fmt.Errorf("%w: n = %d, want 1..%d", ErrMalformed, m.n, MaxBatch)
	}
	if want := BatchHeaderSize + m.n*DigestSize + ed25519.SignatureSize; len(msg) != want {
		return message{}, fmt.Errorf("%w: %d bytes for n = %d, want %d", ErrMalformed, len(msg), m.n, want)
	}
	if m.first+uint64(m.n-1) < m.first {
		return message{}, fmt.Errorf("%w: counters %d + %d wrap", ErrMalformed, m.first, m.n-1)
	}
	end := BatchHeaderSize + m.n*DigestSize
	m.batch, m.sig = msg[:end], msg[end:]
	return m, nil
}
