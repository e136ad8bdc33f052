package sframe

import (
	"errors"
	"fmt"
)

// Decrypt authenticates and decrypts one media frame of codec, laid out as
// clear_prefix || sframe_header || ciphertext || tag (see the package
// doc), and appends the original frame, clear_prefix || plaintext, to dst.
// A frame that is malformed, names an unknown sender or an epoch whose keys
// are not held, replays a counter, or fails authentication is dropped with
// an error wrapping ErrMalformed, ErrUnknownKID, ErrNoKey, ErrReplay or
// ErrAuthFailed, and counted in Stats. dst may overlap frame; then a new
// buffer is allocated.
func (r *Keyring) Decrypt(dst []byte, codec Codec, frame []byte) ([]byte, error) {
	out, err := r.decrypt(dst, codec, frame)
	r.stats.record(err)
	return out, err
}

func (r *Keyring) decrypt(dst []byte, codec Codec, frame []byte) ([]byte, error) {
	if err := codec.check(); err != nil {
		return nil, err
	}
	if len(frame) == 0 {
		return nil, fmt.Errorf("%w: %w: empty frame", ErrMalformed, ErrTruncated)
	}
	n := codec.prefixFor(frame[0])
	var best error
	if len(frame) > n {
		out, err := r.open(dst, frame[:n], frame[n:])
		if err == nil {
			return out, nil
		}
		best = err
	}
	// A frame shorter than its codec's prefix was sent whole as the prefix,
	// with an empty plaintext, so its header ends where the tag starts.
	// Any shorter prefix that fits that shape is tried; only the split the
	// sender used can authenticate. Such frames are at most
	// maxPrefix+MaxHeaderSize+Nt bytes, so this costs little.
	for p := min(n, len(frame)) - 1; p >= 0; p-- {
		_, hl, err := ParseHeader(frame[p:])
		if err != nil || p+hl+r.tagLen != len(frame) {
			continue
		}
		out, err := r.open(dst, frame[:p], frame[p:])
		if err == nil {
			return out, nil
		}
		if rank(err) > rank(best) {
			best = err
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: %w: %v frame of %d bytes", ErrMalformed, ErrTruncated, codec, len(frame))
	}
	return nil, best
}

// rank orders rejection reasons by how far the frame got, so that the
// reported one is the most telling when several splits were tried.
func rank(err error) int {
	for i, target := range rejectionOrder {
		if errors.Is(err, target) {
			return len(rejectionOrder) - i
		}
	}
	return 0
}

var rejectionOrder = []error{ErrReplay, ErrAuthFailed, ErrNoKey, ErrUnknownKID, ErrMalformed}

// open decrypts rest (header || ciphertext || tag) with AAD header ||
// prefix and appends prefix || plaintext to dst.
func (r *Keyring) open(dst, prefix, rest []byte) ([]byte, error) {
	h, hl, err := ParseHeader(rest)
	if err != nil {
		return nil, err
	}
	ct := rest[hl:]
	if len(ct) < r.tagLen {
		return nil, truncatedTag(len(ct), r.tagLen)
	}
	out, expired, err := r.openLocked(dst, h, prefix, rest[:hl], ct)
	if expired {
		r.Sweep()
	}
	return out, err
}

func (r *Keyring) openLocked(dst []byte, h Header, prefix, hdr, ct []byte) (out []byte, expired bool, err error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, expired, err := r.lookupLocked(h.KID)
	if err != nil {
		return nil, expired, err
	}
	if err := s.replay.check(h.CTR); err != nil {
		return nil, false, fmt.Errorf("%w (KID %d)", err, h.KID)
	}
	ret, tail := growApart(dst, len(prefix)+len(ct)-r.tagLen, prefix, hdr, ct)
	copy(tail, prefix)
	if err := s.key.openInto(tail[len(prefix):], h.CTR, hdr, prefix, ct); err != nil {
		return nil, false, err
	}
	if err := s.replay.accept(h.CTR); err != nil {
		return nil, false, fmt.Errorf("%w (KID %d)", err, h.KID)
	}
	return ret, false, nil
}
