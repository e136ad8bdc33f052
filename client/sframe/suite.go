package sframe

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// CipherSuite is an SFrame cipher suite: the AEAD that protects frames and
// the hash HKDF uses to derive its keys (RFC 9605 section 4.5, IANA "SFrame
// Cipher Suites").
type CipherSuite uint16

// The cipher suites of the IANA registry. 0x0001–0x0005 are RFC 9605's;
// 0x0006–0x0008 are the AES-256 variants of the CTR+HMAC construction that
// draft-barnes-sframe-iana-256 added to the registry (and whose AEAD test
// vectors the working group's test-vector file carries).
const (
	AES128CTRHMACSHA256Tag80 CipherSuite = 0x0001 // AES_128_CTR_HMAC_SHA256_80
	AES128CTRHMACSHA256Tag64 CipherSuite = 0x0002 // AES_128_CTR_HMAC_SHA256_64
	AES128CTRHMACSHA256Tag32 CipherSuite = 0x0003 // AES_128_CTR_HMAC_SHA256_32
	AES128GCMSHA256Tag128    CipherSuite = 0x0004 // AES_128_GCM_SHA256_128
	AES256GCMSHA512Tag128    CipherSuite = 0x0005 // AES_256_GCM_SHA512_128
	AES256CTRHMACSHA512Tag80 CipherSuite = 0x0006 // AES_256_CTR_HMAC_SHA512_80
	AES256CTRHMACSHA512Tag64 CipherSuite = 0x0007 // AES_256_CTR_HMAC_SHA512_64
	AES256CTRHMACSHA512Tag32 CipherSuite = 0x0008 // AES_256_CTR_HMAC_SHA512_32

	// DefaultSuite is the suite Parley's media layer uses (DESIGN.md
	// section 6).
	DefaultSuite = AES256GCMSHA512Tag128
)

// nonceSize is Nn, the same for every suite: 96-bit AEAD nonces.
const nonceSize = 12

// suiteParams are a suite's registry columns.
type suiteParams struct {
	name string
	hash func() hash.Hash // HKDF hash (its size is Nh); also the HMAC hash of CTR suites
	nk   int              // sframe_key length
	nt   int              // tag length
	nka  int              // AES key length of a CTR suite (the rest of Nk is the HMAC key); 0 for GCM
}

var suites = map[CipherSuite]suiteParams{
	AES128CTRHMACSHA256Tag80: {"AES_128_CTR_HMAC_SHA256_80", sha256.New, 48, 10, 16},
	AES128CTRHMACSHA256Tag64: {"AES_128_CTR_HMAC_SHA256_64", sha256.New, 48, 8, 16},
	AES128CTRHMACSHA256Tag32: {"AES_128_CTR_HMAC_SHA256_32", sha256.New, 48, 4, 16},
	AES128GCMSHA256Tag128:    {"AES_128_GCM_SHA256_128", sha256.New, 16, 16, 0},
	AES256GCMSHA512Tag128:    {"AES_256_GCM_SHA512_128", sha512.New, 32, 16, 0},
	AES256CTRHMACSHA512Tag80: {"AES_256_CTR_HMAC_SHA512_80", sha512.New, 96, 10, 32},
	AES256CTRHMACSHA512Tag64: {"AES_256_CTR_HMAC_SHA512_64", sha512.New, 96, 8, 32},
	AES256CTRHMACSHA512Tag32: {"AES_256_CTR_HMAC_SHA512_32", sha512.New, 96, 4, 32},
}

func (s CipherSuite) params() (suiteParams, error) {
	p, ok := suites[s]
	if !ok {
		return suiteParams{}, fmt.Errorf("%w: 0x%04x", ErrUnsupportedSuite, uint16(s))
	}
	return p, nil
}

// Supported reports whether this package implements s.
func (s CipherSuite) Supported() bool {
	_, ok := suites[s]
	return ok
}

// String returns the registry name, or the code point in hex for a suite
// this package does not know.
func (s CipherSuite) String() string {
	if p, ok := suites[s]; ok {
		return p.name
	}
	return fmt.Sprintf("CipherSuite(0x%04x)", uint16(s))
}

// KeySize returns Nk, the length of sframe_key, or 0 for an unsupported
// suite.
func (s CipherSuite) KeySize() int { return suites[s].nk }

// NonceSize returns Nn, the length of sframe_salt and of the AEAD nonce, or
// 0 for an unsupported suite.
func (s CipherSuite) NonceSize() int {
	if !s.Supported() {
		return 0
	}
	return nonceSize
}

// TagSize returns Nt, the bytes the AEAD adds to each frame, or 0 for an
// unsupported suite.
func (s CipherSuite) TagSize() int { return suites[s].nt }
