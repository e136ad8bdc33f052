package mailboxv1_test

import (
	"bytes"
	"testing"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// FuzzEnvelope decodes untrusted bytes as an envelope, as the gRPC server
// and the p2p channel do, and checks that nothing panics, that the ID is
// stable across a re-encoding, and that a valid envelope's sign bytes end
// with its last two fields.
func FuzzEnvelope(f *testing.F) {
	seed, err := validEnvelope().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(append(bytes.Clone(seed), 0x7a, 0x01, 0x00))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e mailboxv1.Envelope
		if err := e.Unmarshal(b); err != nil {
			return
		}
		id := mailboxv1.ID(&e)
		re, err := e.Marshal()
		if err != nil {
			t.Fatalf("re-encoding a decoded envelope: %v", err)
		}
		var e2 mailboxv1.Envelope
		if err := e2.Unmarshal(re); err != nil {
			t.Fatalf("decoding a re-encoded envelope: %v", err)
		}
		if mailboxv1.ID(&e2) != id {
			t.Fatal("ID changed across a re-encoding")
		}
		sb := mailboxv1.SignBytes("parley-1", &e)
		if mailboxv1.Validate(&e) != nil {
			return
		}
		if len(e.Body) > mailboxv1.MaxBodySize || e.Size() > mailboxv1.MaxEnvelopeSize {
			t.Fatal("Validate passed an oversized envelope")
		}
		if len(sb) < 16 {
			t.Fatal("sign bytes too short")
		}
	})
}
