package sframe

import (
	"crypto/hkdf"
	"encoding/binary"
)

// The HKDF-Expand labels of RFC 9605 section 4.4.2. Each is followed by
// the KID as 8 bytes and the cipher suite as 2 bytes, both big-endian, so a
// key is bound to one KID and one suite.
const (
	keyLabel  = "SFrame 1.0 Secret key "
	saltLabel = "SFrame 1.0 Secret salt "
)

// derivedKey is what RFC 9605 derives from a base key for one KID.
type derivedKey struct {
	secret []byte // sframe_secret, Nh bytes
	key    []byte // sframe_key, Nk bytes
	salt   []byte // sframe_salt, Nn bytes
}

// clear overwrites all of d's key material.
func (d *derivedKey) clear() {
	clear(d.secret)
	clear(d.key)
	clear(d.salt)
}

// derive runs RFC 9605 section 4.4.2:
//
//	sframe_secret = HKDF-Extract("", base_key)
//	sframe_key    = HKDF-Expand(sframe_secret, key_label,  Nk)
//	sframe_salt   = HKDF-Expand(sframe_secret, salt_label, Nn)
//
// with the suite's hash.
func derive(suite CipherSuite, p suiteParams, kid uint64, baseKey []byte) (derivedKey, error) {
	secret, err := hkdf.Extract(p.hash, baseKey, nil)
	if err != nil {
		return derivedKey{}, err
	}
	d := derivedKey{secret: secret}
	if d.key, err = hkdf.Expand(p.hash, secret, label(keyLabel, kid, suite), p.nk); err != nil {
		d.clear()
		return derivedKey{}, err
	}
	if d.salt, err = hkdf.Expand(p.hash, secret, label(saltLabel, kid, suite), nonceSize); err != nil {
		d.clear()
		return derivedKey{}, err
	}
	return d, nil
}

// label returns prefix || u64_be(kid) || u16_be(suite).
func label(prefix string, kid uint64, suite CipherSuite) string {
	b := make([]byte, 0, len(prefix)+8+2)
	b = append(b, prefix...)
	b = binary.BigEndian.AppendUint64(b, kid)
	b = binary.BigEndian.AppendUint16(b, uint16(suite))
	return string(b)
}
