package keystore

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// flipHex changes the first hex digit of a hex string field.
func flipHex(field string) func(map[string]any) {
	return func(doc map[string]any) {
		s := doc[field].(string)
		c := byte('0')
		if s[0] == '0' {
			c = '1'
		}
		doc[field] = string(c) + s[1:]
	}
}

func set(field string, v any) func(map[string]any) {
	return func(doc map[string]any) { doc[field] = v }
}

func setKDF(field string, v any) func(map[string]any) {
	return func(doc map[string]any) { doc["kdf"].(map[string]any)[field] = v }
}

func otherPublicKey() string {
	pub, _, _ := ed25519.GenerateKey(nil)
	return hex.EncodeToString(pub)
}

func TestTamper(t *testing.T) {
	for _, tc := range []struct {
		name        string
		unencrypted bool
		change      func(map[string]any)
		raw         func([]byte) []byte // applied after change, if set
		want        error
	}{
		// The AEAD catches every header field and the ciphertext.
		{name: "ciphertext", change: flipHex("ciphertext"), want: ErrCorrupt},
		{name: "nonce", change: flipHex("nonce"), want: ErrCorrupt},
		{name: "public key", change: set("public_key", otherPublicKey()), want: ErrCorrupt},
		{name: "created_at", change: set("created_at", "2020-01-01T00:00:00Z"), want: ErrCorrupt},
		// Fields that feed the KDF change the derived key, which reads as a
		// wrong passphrase.
		{name: "salt", change: setKDF("salt", strings.Repeat("00", saltSize)), want: ErrWrongPassphrase},
		{name: "kdf time", change: setKDF("time", 2), want: ErrWrongPassphrase},
		{name: "passphrase check", change: flipHex("passphrase_check"), want: ErrWrongPassphrase},
		// Structure.
		{name: "file of another device", change: set("device_id", "phone"), want: ErrCorrupt},
		{name: "file of another user", change: set("user_id", "mallory"), want: ErrCorrupt},
		{name: "downgrade to none", change: set("encryption", "none"), want: ErrCorrupt},
		{name: "unknown encryption", change: set("encryption", "rot13"), want: ErrCorrupt},
		{name: "unknown kdf", change: setKDF("name", "scrypt"), want: ErrCorrupt},
		{name: "huge kdf memory", change: setKDF("memory_kib", 1<<30), want: ErrCorrupt},
		{name: "zero kdf threads", change: setKDF("threads", 0), want: ErrCorrupt},
		{name: "short salt", change: setKDF("salt", "00"), want: ErrCorrupt},
		{name: "short ciphertext", change: set("ciphertext", "00"), want: ErrCorrupt},
		{name: "bad hex", change: set("nonce", "zz"), want: ErrCorrupt},
		{name: "null field", change: set("nonce", nil), want: ErrCorrupt},
		{name: "plaintext seed added", change: set("seed", strings.Repeat("00", 32)), want: ErrCorrupt},
		{name: "unknown field", change: set("comment", "hi"), want: ErrCorrupt},
		{name: "bad created_at", change: set("created_at", "yesterday"), want: ErrCorrupt},
		{name: "newer version", change: set("version", 2), want: ErrUnsupportedVersion},
		{name: "version zero", change: set("version", 0), want: ErrUnsupportedVersion},
		{name: "truncated", raw: func(b []byte) []byte { return b[:len(b)/2] }, want: ErrCorrupt},
		{name: "trailing data", raw: func(b []byte) []byte { return append(b, "{}"...) }, want: ErrCorrupt},
		{name: "empty", raw: func([]byte) []byte { return nil }, want: ErrCorrupt},
		{name: "too large", raw: func(b []byte) []byte { return append(b, make([]byte, maxFileSize)...) }, want: ErrCorrupt},

		{name: "unencrypted seed", unencrypted: true, change: flipHex("seed"), want: ErrCorrupt},
		{name: "unencrypted public key", unencrypted: true, change: set("public_key", otherPublicKey()), want: ErrCorrupt},
		{name: "unencrypted with kdf", unencrypted: true, change: set("kdf", map[string]any{"name": "argon2id"}), want: ErrCorrupt},
		{name: "unencrypted short seed", unencrypted: true, change: set("seed", "0000"), want: ErrCorrupt},
		{name: "unencrypted upgrade claim", unencrypted: true, change: set("encryption", "aes-256-gcm"), want: ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			p := pass
			if tc.unencrypted {
				p = nil
			}
			mustCreate(t, s, "alice", "laptop", p)
			path := s.path("alice", "laptop")
			doc := readDoc(t, path)
			if tc.change != nil {
				tc.change(doc)
			}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if tc.raw != nil {
				b = tc.raw(b)
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}

			_, err = s.Load("alice", "laptop", p)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load: %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, ErrCorrupt) && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestSwapCiphertext moves the sealed seed of one device into another
// device's file: the AAD (user, device, public key) must reject it even
// with the right passphrase.
func TestSwapCiphertext(t *testing.T) {
	s := newTestStore(t)
	mustCreate(t, s, "alice", "laptop", pass)
	mustCreate(t, s, "alice", "phone", pass)
	laptop := readDoc(t, s.path("alice", "laptop"))
	phone := readDoc(t, s.path("alice", "phone"))
	for _, f := range []string{"kdf", "nonce", "ciphertext", "passphrase_check"} {
		phone[f] = laptop[f]
	}
	b, _ := json.Marshal(phone)
	if err := os.WriteFile(s.path("alice", "phone"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("alice", "phone", pass); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load: %v, want ErrCorrupt", err)
	}
}

// TestAAD pins the AAD layout documented in doc.go.
func TestAAD(t *testing.T) {
	f := &keyFile{
		Version:    1,
		UserID:     "alice",
		DeviceID:   "pc",
		PublicKey:  make([]byte, 32),
		CreatedAt:  "2026-01-02T03:04:05Z",
		Encryption: encryptionAESGCM,
		KDF: &kdfParams{
			Name: kdfArgon2id, Time: 3, MemoryKiB: 65536, Threads: 2,
			Salt: make([]byte, 16),
		},
	}
	want := "00000012" + hex.EncodeToString([]byte("parley/v1/keystore")) +
		"00000001" +
		"00000005" + hex.EncodeToString([]byte("alice")) +
		"00000002" + hex.EncodeToString([]byte("pc")) +
		"00000020" + strings.Repeat("00", 32) +
		"00000014" + hex.EncodeToString([]byte("2026-01-02T03:04:05Z")) +
		"0000000b" + hex.EncodeToString([]byte("aes-256-gcm")) +
		"00000008" + hex.EncodeToString([]byte("argon2id")) +
		"00000003" + "00010000" + "00000002" +
		"00000010" + strings.Repeat("00", 16)
	if got := hex.EncodeToString(f.aad()); got != want {
		t.Fatalf("aad\n got %s\nwant %s", got, want)
	}
}

func FuzzParseKeyFile(f *testing.F) {
	dir := f.TempDir() + "/keys"
	s, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	s.kdf = fastKDF
	for _, p := range [][]byte{pass, nil} {
		k, err := s.Create("alice", map[bool]string{true: "enc", false: "plain"}[p != nil], p, CreateOptions{Unencrypted: p == nil})
		if err != nil {
			f.Fatal(err)
		}
		k.Close()
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"kdf":null,"seed":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := parseKeyFile(data)
		if err != nil {
			return
		}
		// Whatever parses must re-encode to something that parses the same.
		out, err := kf.marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseKeyFile(out)
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v\n%s", err, out)
		}
		if kf.Encryption == encryptionAESGCM && string(again.aad()) != string(kf.aad()) {
			t.Fatal("re-encoding changed the AAD")
		}
	})
}
