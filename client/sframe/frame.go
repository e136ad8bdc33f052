package sframe

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"sync"
)

// maxPlaintext bounds one frame: AES-GCM's limit, which is also below the
// 2^32 blocks the CTR suites' 32-bit counter can cover. Past it crypto/cipher
// would panic and CTR would wrap, so such frames are refused instead.
const maxPlaintext = (1<<32 - 2) * aes.BlockSize

// Key is one SFrame key of RFC 9605: sframe_key and sframe_salt derived
// from a base key for one KID under one cipher suite, with the AEAD set up
// once so that no frame derives anything.
//
// Encrypt and Decrypt may run concurrently; Erase must not run
// concurrently with them (Keyring and Sender ensure this with their locks).
type Key struct {
	suite  CipherSuite
	kid    uint64
	tagLen int
	salt   [nonceSize]byte
	aead   cipher.AEAD // nil once erased
	ctr    *ctrHMAC    // the same AEAD for CTR suites, kept so Erase can clear its HMAC key
}

// NewKey derives the key of kid from baseKey (RFC 9605 section 4.4.2). It
// keeps no copy of baseKey and clears every intermediate secret it made.
func NewKey(suite CipherSuite, kid uint64, baseKey []byte) (*Key, error) {
	p, err := suite.params()
	if err != nil {
		return nil, err
	}
	if len(baseKey) == 0 {
		return nil, fmt.Errorf("%w: empty base key", ErrInvalidArgument)
	}
	d, err := derive(suite, p, kid, baseKey)
	if err != nil {
		return nil, err
	}
	defer d.clear()
	k := &Key{suite: suite, kid: kid, tagLen: p.nt}
	copy(k.salt[:], d.salt)
	if k.aead, k.ctr, err = newAEAD(p, d.key); err != nil {
		return nil, err
	}
	return k, nil
}

// newAEAD builds the suite's AEAD from sframe_key; it copies what it keeps.
func newAEAD(p suiteParams, key []byte) (cipher.AEAD, *ctrHMAC, error) {
	if p.nka > 0 {
		c, err := newCTRHMAC(p, key)
		return c, c, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, err
	}
	g, err := cipher.NewGCM(block)
	return g, nil, err
}

// KID returns the key ID this key encrypts and decrypts under.
func (k *Key) KID() uint64 { return k.kid }

// Suite returns the cipher suite of k.
func (k *Key) Suite() CipherSuite { return k.suite }

// Erase clears the salt and any key bytes k holds and makes every later
// Encrypt and Decrypt fail with ErrNoKey. The expanded AES key schedule is
// private to crypto/aes and cannot be overwritten; Erase drops k's only
// reference to it.
func (k *Key) Erase() {
	clear(k.salt[:])
	if k.ctr != nil {
		k.ctr.erase()
	}
	k.aead, k.ctr = nil, nil
}

// Encrypt appends the SFrame ciphertext header || AEAD(plaintext) to dst,
// with the nonce sframe_salt XOR ctr and AAD header || metadata (RFC 9605
// section 4.4.3). The caller must never use one ctr twice with one key.
// dst may overlap plaintext or metadata; then a new buffer is allocated.
func (k *Key) Encrypt(dst []byte, ctr uint64, metadata, plaintext []byte) ([]byte, error) {
	h := Header{KID: k.kid, CTR: ctr}
	hl := h.Len()
	ret, out := growApart(dst, hl+len(plaintext)+k.tagLen, metadata, plaintext)
	hdr := h.Append(out[:0])
	if err := k.sealInto(out[hl:], ctr, hdr, metadata, plaintext); err != nil {
		return nil, err
	}
	return ret, nil
}

// Decrypt parses the SFrame ciphertext frame (header || ciphertext || tag),
// checks that its KID is k's and appends the plaintext to dst (RFC 9605
// section 4.4.4). It returns the header too, so the caller can apply its
// replay policy, which RFC 9605 leaves to the application.
func (k *Key) Decrypt(dst []byte, metadata, frame []byte) ([]byte, Header, error) {
	h, hl, err := ParseHeader(frame)
	if err != nil {
		return nil, Header{}, err
	}
	if h.KID != k.kid {
		return nil, h, fmt.Errorf("%w: frame KID %d, key KID %d", ErrUnknownKID, h.KID, k.kid)
	}
	ct := frame[hl:]
	if len(ct) < k.tagLen {
		return nil, h, truncatedTag(len(ct), k.tagLen)
	}
	ret, out := growApart(dst, len(ct)-k.tagLen, frame, metadata)
	if err := k.openInto(out, h.CTR, frame[:hl], metadata, ct); err != nil {
		return nil, h, err
	}
	return ret, h, nil
}

func truncatedTag(have, want int) error {
	return fmt.Errorf("%w: %w: %d bytes after the header, the tag alone is %d", ErrMalformed, ErrTruncated, have, want)
}

// sealInto encrypts pt into out (len(pt)+tagLen bytes, overlapping no
// input) under ctr with AAD a1 || a2.
func (k *Key) sealInto(out []byte, ctr uint64, a1, a2, pt []byte) error {
	if k.aead == nil {
		return fmt.Errorf("%w: KID %d is erased", ErrNoKey, k.kid)
	}
	if uint64(len(pt)) > maxPlaintext {
		return fmt.Errorf("%w: frame of %d bytes is too long", ErrInvalidArgument, len(pt))
	}
	s := getScratch()
	defer s.put()
	nonce, aad := k.prepare(s, ctr, a1, a2)
	k.aead.Seal(out[:0], nonce, pt, aad)
	return nil
}

// openInto decrypts ct (at least tagLen bytes) into out (len(ct)-tagLen
// bytes, overlapping no input) under ctr with AAD a1 || a2.
func (k *Key) openInto(out []byte, ctr uint64, a1, a2, ct []byte) error {
	if k.aead == nil {
		return fmt.Errorf("%w: KID %d is erased", ErrNoKey, k.kid)
	}
	s := getScratch()
	defer s.put()
	nonce, aad := k.prepare(s, ctr, a1, a2)
	if _, err := k.aead.Open(out[:0], nonce, ct, aad); err != nil {
		return fmt.Errorf("%w: KID %d CTR %d", ErrAuthFailed, k.kid, ctr)
	}
	return nil
}

// prepare writes the nonce (sframe_salt XOR the CTR left-padded to Nn bytes)
// and the AAD a1 || a2 into s.
func (k *Key) prepare(s *scratch, ctr uint64, a1, a2 []byte) (nonce, aad []byte) {
	nonce = s.b[:nonceSize]
	copy(nonce, k.salt[:nonceSize-8])
	binary.BigEndian.PutUint64(nonce[nonceSize-8:], binary.BigEndian.Uint64(k.salt[nonceSize-8:])^ctr)
	if n := len(a1) + len(a2); n <= len(s.b)-nonceSize {
		aad = s.b[nonceSize:nonceSize]
	} else {
		aad = make([]byte, 0, n)
	}
	return nonce, append(append(aad, a1...), a2...)
}

// scratch holds a frame's nonce and AAD. crypto/cipher takes them through
// an interface, so a stack array would escape to the heap on every frame;
// a pool keeps the hot path free of allocations.
// 128 bytes hold the nonce and the AAD of every Parley frame (a header of
// at most 17 bytes and a prefix of at most 10) and of most RFC uses; longer
// metadata gets its own buffer.
type scratch struct {
	b [128]byte // nonce, then header || metadata
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// put clears the nonce, which together with the public CTR would reveal
// the salt, and returns s to the pool.
func (s *scratch) put() {
	clear(s.b[:nonceSize])
	scratchPool.Put(s)
}
