package sframe

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// hexBytes decodes a JSON hex string.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

// rfcVectors is the sframe-wg test-vector file (RFC 9605 appendix C, plus
// the AES-256 CTR+HMAC AEAD vectors the registry update added).
type rfcVectors struct {
	Header []struct {
		KID     uint64   `json:"kid"`
		CTR     uint64   `json:"ctr"`
		Encoded hexBytes `json:"encoded"`
	} `json:"header"`
	AESCTRHMAC    []aeadVector `json:"aes_ctr_hmac"`
	AES256CTRHMAC []aeadVector `json:"aes_256_ctr_hmac"`
	SFrame        []struct {
		CipherSuite CipherSuite `json:"cipher_suite"`
		KID         uint64      `json:"kid"`
		CTR         uint64      `json:"ctr"`
		BaseKey     hexBytes    `json:"base_key"`
		KeyLabel    hexBytes    `json:"sframe_key_label"`
		SaltLabel   hexBytes    `json:"sframe_salt_label"`
		Secret      hexBytes    `json:"sframe_secret"`
		Key         hexBytes    `json:"sframe_key"`
		Salt        hexBytes    `json:"sframe_salt"`
		Metadata    hexBytes    `json:"metadata"`
		Nonce       hexBytes    `json:"nonce"`
		AAD         hexBytes    `json:"aad"`
		PT          hexBytes    `json:"pt"`
		CT          hexBytes    `json:"ct"`
	} `json:"sframe"`
}

type aeadVector struct {
	CipherSuite CipherSuite `json:"cipher_suite"`
	Key         hexBytes    `json:"key"`
	EncKey      hexBytes    `json:"enc_key"`
	AuthKey     hexBytes    `json:"auth_key"`
	Nonce       hexBytes    `json:"nonce"`
	AAD         hexBytes    `json:"aad"`
	PT          hexBytes    `json:"pt"`
	CT          hexBytes    `json:"ct"`
}

func loadVectors(t *testing.T) rfcVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/sframe-rfc9605.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a section this test does not know would go unchecked
	var v rfcVectors
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVectorsCoverTheFile guards against a vector section silently going
// unchecked: every section must be non-empty and of the expected size.
func TestVectorsCoverTheFile(t *testing.T) {
	v := loadVectors(t)
	var generic map[string][]json.RawMessage
	raw, _ := os.ReadFile("testdata/sframe-rfc9605.json")
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"header":           len(v.Header),
		"aes_ctr_hmac":     len(v.AESCTRHMAC),
		"aes_256_ctr_hmac": len(v.AES256CTRHMAC),
		"sframe":           len(v.SFrame),
	}
	if len(generic) != len(want) {
		t.Fatalf("file has %d sections, test knows %d", len(generic), len(want))
	}
	for name, n := range want {
		if n == 0 || len(generic[name]) != n {
			t.Errorf("section %q: file has %d vectors, decoded %d", name, len(generic[name]), n)
		}
	}
}

func TestRFCHeaderVectors(t *testing.T) {
	for _, tv := range loadVectors(t).Header {
		t.Run(fmt.Sprintf("kid=%d/ctr=%d", tv.KID, tv.CTR), func(t *testing.T) {
			h := Header{KID: tv.KID, CTR: tv.CTR}
			if got := h.Append(nil); !bytes.Equal(got, tv.Encoded) {
				t.Errorf("encode = %x, want %x", got, tv.Encoded)
			}
			if h.Len() != len(tv.Encoded) {
				t.Errorf("Len = %d, want %d", h.Len(), len(tv.Encoded))
			}
			got, n, err := ParseHeader(append(tv.Encoded[:len(tv.Encoded):len(tv.Encoded)], 0xaa, 0xbb))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got != h || n != len(tv.Encoded) {
				t.Errorf("parse = %+v, %d; want %+v, %d", got, n, h, len(tv.Encoded))
			}
		})
	}
}

func TestRFCAESCTRHMACVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tv := range append(v.AESCTRHMAC, v.AES256CTRHMAC...) {
		t.Run(tv.CipherSuite.String(), func(t *testing.T) {
			p, err := tv.CipherSuite.params()
			if err != nil {
				t.Fatal(err)
			}
			if p.nka == 0 {
				t.Fatalf("%v is not a CTR+HMAC suite", tv.CipherSuite)
			}
			if len(tv.Key) != p.nk {
				t.Fatalf("key is %d bytes, suite Nk is %d", len(tv.Key), p.nk)
			}
			if !bytes.Equal(tv.Key[:p.nka], tv.EncKey) || !bytes.Equal(tv.Key[p.nka:], tv.AuthKey) {
				t.Errorf("key split: enc %x auth %x, want %x %x", tv.Key[:p.nka], tv.Key[p.nka:], tv.EncKey, tv.AuthKey)
			}
			a, _, err := newAEAD(p, tv.Key)
			if err != nil {
				t.Fatal(err)
			}
			ct := a.Seal(nil, tv.Nonce, tv.PT, tv.AAD)
			if !bytes.Equal(ct, tv.CT) {
				t.Errorf("seal = %x, want %x", ct, tv.CT)
			}
			pt, err := a.Open(nil, tv.Nonce, tv.CT, tv.AAD)
			if err != nil || !bytes.Equal(pt, tv.PT) {
				t.Errorf("open = %x, %v; want %x", pt, err, tv.PT)
			}
			bad := bytes.Clone(tv.CT)
			bad[len(bad)-1] ^= 1
			if _, err := a.Open(nil, tv.Nonce, bad, tv.AAD); err == nil {
				t.Error("open accepted a flipped tag bit")
			}
		})
	}
}

func TestRFCSFrameVectors(t *testing.T) {
	for _, tv := range loadVectors(t).SFrame {
		t.Run(tv.CipherSuite.String(), func(t *testing.T) {
			p, err := tv.CipherSuite.params()
			if err != nil {
				t.Fatal(err)
			}
			if got := label(keyLabel, tv.KID, tv.CipherSuite); got != string(tv.KeyLabel) {
				t.Errorf("key label = %x, want %x", got, tv.KeyLabel)
			}
			if got := label(saltLabel, tv.KID, tv.CipherSuite); got != string(tv.SaltLabel) {
				t.Errorf("salt label = %x, want %x", got, tv.SaltLabel)
			}
			d, err := derive(tv.CipherSuite, p, tv.KID, tv.BaseKey)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name      string
				got, want []byte
			}{
				{"sframe_secret", d.secret, tv.Secret},
				{"sframe_key", d.key, tv.Key},
				{"sframe_salt", d.salt, tv.Salt},
			} {
				if !bytes.Equal(c.got, c.want) {
					t.Errorf("%s = %x, want %x", c.name, c.got, c.want)
				}
			}

			k, err := NewKey(tv.CipherSuite, tv.KID, tv.BaseKey)
			if err != nil {
				t.Fatal(err)
			}
			s := getScratch()
			hdr := Header{KID: tv.KID, CTR: tv.CTR}.Append(nil)
			nonce, aad := k.prepare(s, tv.CTR, hdr, tv.Metadata)
			if !bytes.Equal(nonce, tv.Nonce) {
				t.Errorf("nonce = %x, want %x", nonce, tv.Nonce)
			}
			if !bytes.Equal(aad, tv.AAD) {
				t.Errorf("aad = %x, want %x", aad, tv.AAD)
			}
			s.put()

			ct, err := k.Encrypt(nil, tv.CTR, tv.Metadata, tv.PT)
			if err != nil || !bytes.Equal(ct, tv.CT) {
				t.Errorf("encrypt = %x, %v; want %x", ct, err, tv.CT)
			}
			pt, h, err := k.Decrypt(nil, tv.Metadata, tv.CT)
			if err != nil || !bytes.Equal(pt, tv.PT) || h != (Header{KID: tv.KID, CTR: tv.CTR}) {
				t.Errorf("decrypt = %x, %+v, %v; want %x", pt, h, err, tv.PT)
			}
		})
	}
}
