package framesig

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"time"
)

// Signer batches the digests of one device's sealed frames and signs each
// batch with the device key.
type Signer struct {
	key      crypto.Signer
	now      func() time.Time
	interval time.Duration
	maxBatch int

	mu     sync.Mutex
	dg     digester
	prefix int    // length of the signed prefix at the start of buf
	buf    []byte // signed prefix || the open batch's header and digests
	n      int    // frames in the open batch; 0 when none is open
	epoch  uint64
	kid    uint64
	first  uint64
	opened time.Time
}

// NewSigner returns a Signer that signs with key, an Ed25519 device key
// (an ed25519.PrivateKey or any crypto.Signer whose public key is an
// ed25519.PublicKey), for the meeting meetingID (16 bytes) on the chain
// chainID (1 to 255 bytes). It takes WithClock, WithInterval and
// WithMaxBatch.
func NewSigner(key crypto.Signer, chainID string, meetingID []byte, opts ...Option) (*Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil device key", ErrInvalidArgument)
	}
	if pub, ok := key.Public().(ed25519.PublicKey); !ok || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: device key with public key %T, want a %d-byte ed25519.PublicKey", ErrInvalidArgument, key.Public(), ed25519.PublicKeySize)
	}
	prefix, err := signedPrefix(chainID, meetingID)
	if err != nil {
		return nil, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, len(prefix), len(prefix)+BatchHeaderSize+o.maxBatch*DigestSize)
	copy(buf, prefix)
	return &Signer{
		key: key, now: o.now, interval: o.interval, maxBatch: o.maxBatch,
		dg: newDigester(), prefix: len(prefix), buf: buf,
	}, nil
}

// Add records frame, sealed under (epoch, kid) with SFrame counter ctr, and
// returns a finished message when the batch is due (see the package doc):
// Interval has passed since the batch's first frame, the batch is full, or
// (epoch, kid) changed or ctr is not the next counter — then the open batch
// is finished first, and the frame starts a new one. Otherwise it returns
// nil. Call it once per sealed frame, in counter order.
//
// An error wraps ErrSigning; the batch it was about is lost, and the frame
// is recorded all the same.
func (s *Signer) Add(epoch, kid, ctr uint64, frame []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var msg []byte
	var err error
	if s.n > 0 && !s.continues(epoch, kid, ctr) {
		msg, err = s.finish()
	}
	if s.n == 0 {
		s.buf = appendBatchHeader(s.buf[:s.prefix], epoch, kid, ctr)
		s.epoch, s.kid, s.first, s.opened = epoch, kid, ctr, now
	}
	d := s.dg.digest(frame)
	s.buf = append(s.buf, d[:]...)
	s.n++
	if msg == nil && err == nil && (s.n >= s.maxBatch || now.Sub(s.opened) >= s.interval) {
		msg, err = s.finish()
	}
	return msg, err
}

// Flush finishes the open batch now and returns its message, or nil if no
// batch is open. Call it on a timer, every Interval, so that a sender that
// goes quiet still gets its last frames signed.
func (s *Signer) Flush() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return nil, nil
	}
	return s.finish()
}

// continues reports whether (epoch, kid, ctr) is the next frame of the open
// batch and fits in it. ctr > first rules out a counter that wrapped.
func (s *Signer) continues(epoch, kid, ctr uint64) bool {
	return epoch == s.epoch && kid == s.kid && ctr > s.first && ctr-s.first == uint64(s.n) && s.n < s.maxBatch
}

// finish signs the open batch and closes it, whether signing works or not.
func (s *Signer) finish() ([]byte, error) {
	putBatchLen(s.buf[s.prefix:], s.n)
	first, n := s.first, s.n
	signed := s.buf
	s.n = 0
	s.buf = s.buf[:s.prefix]
	msg := make([]byte, len(signed)-s.prefix, len(signed)-s.prefix+ed25519.SignatureSize)
	copy(msg, signed[s.prefix:])
	// crypto.Hash(0) asks for pure Ed25519 over the message itself.
	sig, err := s.key.Sign(rand.Reader, signed, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("%w: batch of epoch %d KID %d counters %d..%d: %w", ErrSigning, s.epoch, s.kid, first, first+uint64(n-1), err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: batch of epoch %d KID %d counters %d..%d: signature of %d bytes, want %d", ErrSigning, s.epoch, s.kid, first, first+uint64(n-1), len(sig), ed25519.SignatureSize)
	}
	return append(msg, sig...), nil
}
