package keystore

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Values of the file format; doc.go describes it in full.
const (
	formatVersion = 1

	encryptionAESGCM = "aes-256-gcm"
	encryptionNone   = "none"

	kdfArgon2id = "argon2id"

	aadDomain = "parley/v1/keystore"

	saltSize       = 16
	nonceSize      = 12
	seedSize       = ed25519.SeedSize // 32
	tagSize        = 16
	checkSize      = 32
	ciphertextSize = seedSize + tagSize

	// maxFileSize bounds how much of a key file is read; a valid file is
	// well under 1 KiB.
	maxFileSize = 64 << 10
)

// keyFile is the JSON document stored for one device key.
type keyFile struct {
	Version         int        `json:"version"`
	UserID          string     `json:"user_id"`
	DeviceID        string     `json:"device_id"`
	PublicKey       hexBytes   `json:"public_key"`
	CreatedAt       string     `json:"created_at"`
	Encryption      string     `json:"encryption"`
	KDF             *kdfParams `json:"kdf,omitempty"`
	Nonce           hexBytes   `json:"nonce,omitempty"`
	Ciphertext      hexBytes   `json:"ciphertext,omitempty"`
	PassphraseCheck hexBytes   `json:"passphrase_check,omitempty"`
	Seed            hexBytes   `json:"seed,omitempty"`
}

// kdfParams are the Argon2id parameters recorded in an encrypted file.
type kdfParams struct {
	Name      string   `json:"name"`
	Time      uint32   `json:"time"`
	MemoryKiB uint32   `json:"memory_kib"`
	Threads   uint32   `json:"threads"`
	Salt      hexBytes `json:"salt"`
}

// hexBytes is a byte string written as lowercase hex in JSON.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 2+hex.EncodedLen(len(h)))
	out = append(out, '"')
	out = hex.AppendEncode(out, h)
	return append(out, '"'), nil
}

func (h *hexBytes) UnmarshalJSON(data []byte) error {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return errors.New("want a hex string")
	}
	b, err := hex.AppendDecode(nil, data[1:len(data)-1])
	if err != nil {
		return fmt.Errorf("bad hex: %w", err)
	}
	*h = b
	return nil
}

// marshal encodes f as the file's bytes: indented JSON and a newline.
func (f *keyFile) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// parseKeyFile decodes and checks a key file's structure. It does not
// decrypt and so cannot detect a tampered header of an encrypted file; that
// is the AEAD's job in open. Errors are reasons, wrapped by the caller with
// ErrCorrupt and the file's path, except ErrUnsupportedVersion.
func parseKeyFile(data []byte) (*keyFile, error) {
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON key file: %w", err)
	}
	if probe.Version != formatVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrUnsupportedVersion, probe.Version, formatVersion)
	}

	var f keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON object")
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

func (f *keyFile) validate() error {
	if err := validateIDs(f.UserID, f.DeviceID); err != nil {
		return err
	}
	if len(f.PublicKey) != ed25519.PublicKeySize {
		return fmt.Errorf("public_key is %d bytes, want %d", len(f.PublicKey), ed25519.PublicKeySize)
	}
	if _, err := time.Parse(time.RFC3339, f.CreatedAt); err != nil {
		return fmt.Errorf("created_at: %w", err)
	}
	switch f.Encryption {
	case encryptionAESGCM:
		if f.KDF == nil {
			return errors.New("encrypted file without kdf")
		}
		if err := f.KDF.validate(); err != nil {
			return err
		}
		if err := wantLen("nonce", f.Nonce, nonceSize); err != nil {
			return err
		}
		if err := wantLen("ciphertext", f.Ciphertext, ciphertextSize); err != nil {
			return err
		}
		if err := wantLen("passphrase_check", f.PassphraseCheck, checkSize); err != nil {
			return err
		}
		if len(f.Seed) != 0 {
			return errors.New("encrypted file also holds a plaintext seed")
		}
	case encryptionNone:
		if f.KDF != nil || len(f.Nonce) != 0 || len(f.Ciphertext) != 0 || len(f.PassphraseCheck) != 0 {
			return errors.New(`file with "encryption": "none" holds encryption fields`)
		}
		if err := wantLen("seed", f.Seed, seedSize); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown encryption %q", f.Encryption)
	}
	return nil
}

func wantLen(field string, b []byte, n int) error {
	if len(b) != n {
		return fmt.Errorf("%s is %d bytes, want %d", field, len(b), n)
	}
	return nil
}

// Bounds on KDF parameters read from a file, so that a damaged or hostile
// file cannot make Load allocate gigabytes or spin for minutes.
const (
	maxKDFTime      = 64
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
	maxKDFThreads   = 64
)

func (p *kdfParams) validate() error {
	if p.Name != kdfArgon2id {
		return fmt.Errorf("unknown kdf %q", p.Name)
	}
	if p.Time < 1 || p.Time > maxKDFTime {
		return fmt.Errorf("kdf time %d outside [1, %d]", p.Time, maxKDFTime)
	}
	if p.Threads < 1 || p.Threads > maxKDFThreads {
		return fmt.Errorf("kdf threads %d outside [1, %d]", p.Threads, maxKDFThreads)
	}
	if p.MemoryKiB < 8*p.Threads || p.MemoryKiB > maxKDFMemoryKiB {
		return fmt.Errorf("kdf memory_kib %d outside [8*threads, %d]", p.MemoryKiB, maxKDFMemoryKiB)
	}
	return wantLen("kdf salt", p.Salt, saltSize)
}

// aad is the associated data of the AEAD: every header field of the file in
// a fixed binary layout (documented in doc.go), so that changing any of them
// makes decryption fail.
func (f *keyFile) aad() []byte {
	var b []byte
	b = appendLP(b, []byte(aadDomain))
	b = binary.BigEndian.AppendUint32(b, uint32(f.Version))
	b = appendLP(b, []byte(f.UserID))
	b = appendLP(b, []byte(f.DeviceID))
	b = appendLP(b, f.PublicKey)
	b = appendLP(b, []byte(f.CreatedAt))
	b = appendLP(b, []byte(f.Encryption))
	b = appendLP(b, []byte(f.KDF.Name))
	b = binary.BigEndian.AppendUint32(b, f.KDF.Time)
	b = binary.BigEndian.AppendUint32(b, f.KDF.MemoryKiB)
	b = binary.BigEndian.AppendUint32(b, f.KDF.Threads)
	b = appendLP(b, f.KDF.Salt)
	return b
}

// appendLP appends x prefixed by its length as a 4-byte big-endian integer.
func appendLP(b, x []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
	return append(b, x...)
}
