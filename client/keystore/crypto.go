package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"golang.org/x/crypto/argon2"
)

// Default Argon2id parameters, written into every file a Store creates:
// RFC 9106's second recommended option (t=3, m=64 MiB) with two lanes.
const (
	defaultKDFTime      = 3
	defaultKDFMemoryKiB = 64 << 10
	defaultKDFThreads   = 2
)

// HKDF info strings that split the Argon2id output into independent keys.
const (
	infoAEAD  = "parley/v1/keystore/aead"
	infoCheck = "parley/v1/keystore/check"
)

// kdfSettings are the Argon2id costs a Store uses for new files.
type kdfSettings struct {
	time, memoryKiB, threads uint32
}

var defaultKDF = kdfSettings{defaultKDFTime, defaultKDFMemoryKiB, defaultKDFThreads}

// errAEAD means the passphrase was right but the AEAD did not open: the
// ciphertext, nonce or header was changed.
var errAEAD = errors.New("authentication failed: ciphertext or header was modified")

// deriveKeys runs Argon2id over the passphrase and splits the result with
// HKDF-SHA256 into the AEAD key and the passphrase check value.
func deriveKeys(passphrase []byte, p *kdfParams) (aeadKey, check []byte, err error) {
	master := argon2.IDKey(passphrase, p.Salt, p.Time, p.MemoryKiB, uint8(p.Threads), 32)
	defer clear(master)
	aeadKey, err = hkdf.Key(sha256.New, master, nil, infoAEAD, 32)
	if err != nil {
		return nil, nil, err
	}
	check, err = hkdf.Key(sha256.New, master, nil, infoCheck, checkSize)
	if err != nil {
		clear(aeadKey)
		return nil, nil, err
	}
	return aeadKey, check, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal fills f's encryption fields: a fresh salt and nonce, the passphrase
// check and the sealed seed. The header fields must already be set.
func seal(f *keyFile, seed, passphrase []byte, s kdfSettings) error {
	f.Encryption = encryptionAESGCM
	f.KDF = &kdfParams{
		Name:      kdfArgon2id,
		Time:      s.time,
		MemoryKiB: s.memoryKiB,
		Threads:   s.threads,
		Salt:      randomBytes(saltSize),
	}
	aeadKey, check, err := deriveKeys(passphrase, f.KDF)
	if err != nil {
		return err
	}
	defer clear(aeadKey)
	gcm, err := newGCM(aeadKey)
	if err != nil {
		return err
	}
	f.Nonce = randomBytes(nonceSize)
	f.PassphraseCheck = check
	f.Ciphertext = gcm.Seal(nil, f.Nonce, seed, f.aad())
	return nil
}

// open returns the seed sealed in f. It reports ErrWrongPassphrase when the
// passphrase check differs, and errAEAD when the passphrase is right but the
// file was changed. The caller must clear the seed.
func open(f *keyFile, passphrase []byte) ([]byte, error) {
	aeadKey, check, err := deriveKeys(passphrase, f.KDF)
	if err != nil {
		return nil, err
	}
	defer clear(aeadKey)
	if subtle.ConstantTimeCompare(check, f.PassphraseCheck) != 1 {
		return nil, ErrWrongPassphrase
	}
	gcm, err := newGCM(aeadKey)
	if err != nil {
		return nil, err
	}
	seed, err := gcm.Open(nil, f.Nonce, f.Ciphertext, f.aad())
	if err != nil {
		return nil, errAEAD
	}
	return seed, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails since Go 1.24
	return b
}
