package keyschedule

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"testing"
)

// The three benchmarks below seal one meeting key for 1,000 members, so
// ns/op is the time per 1,000 envelopes; each also reports ms/1000.
//
//   - BenchmarkSealAll1000: the real thing, on GOMAXPROCS workers: parse each
//     member's public key, HPKE-seal, sign with Ed25519, build the envelope.
//   - BenchmarkBareHPKESeal1000: a serial loop of hpke.Seal to the same,
//     already parsed, keys: the floor of the KEM and AEAD work on one core.
//   - BenchmarkBareHPKESeal1000Parallel: the same bare seals on the worker
//     pool SealAll uses (forEachParallel).
//
// BenchmarkParseKeys1000 and BenchmarkSign1000 time, serially, the two other
// parts of SealAll's work, to explain the gap between it and the bare seals.

const benchMembers = 1000

func benchSetup(b *testing.B) (*fixture, []hpke.PublicKey, []byte) {
	b.Helper()
	f := newFixture(b, benchMembers)
	pks := make([]hpke.PublicKey, benchMembers)
	for i, m := range f.members {
		pk, err := ParseEphemeralPublicKey(m.PublicKey)
		if err != nil {
			b.Fatal(err)
		}
		pks[i] = pk
	}
	return f, pks, f.ctx.labeled(labelMeetingKey)
}

func reportPer1000(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed())/1e6/float64(b.N), "ms/1000")
}

func BenchmarkSealAll1000(b *testing.B) {
	f, _, _ := benchSetup(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		envs, err := SealAll(ctx, f.leader, f.ctx, f.mk, f.members)
		if err != nil || len(envs) != benchMembers {
			b.Fatal(err)
		}
	}
	reportPer1000(b)
}

// BenchmarkSealAll1000Cached is SealAll as a leader runs it from the second
// epoch on: members' keys were parsed when they joined.
func BenchmarkSealAll1000Cached(b *testing.B) {
	f, pks, _ := benchSetup(b)
	members := make([]Recipient, len(f.members))
	for i, m := range f.members {
		m.Parsed = pks[i]
		members[i] = m
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		envs, err := SealAll(ctx, f.leader, f.ctx, f.mk, members)
		if err != nil || len(envs) != benchMembers {
			b.Fatal(err)
		}
	}
	reportPer1000(b)
}

func BenchmarkBareHPKESeal1000(b *testing.B) {
	f, pks, info := benchSetup(b)
	b.ResetTimer()
	for b.Loop() {
		for _, pk := range pks {
			if _, err := hpke.Seal(pk, kdf, aead, info, f.mk); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPer1000(b)
}

func BenchmarkBareHPKESeal1000Parallel(b *testing.B) {
	f, pks, info := benchSetup(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		err := forEachParallel(ctx, len(pks), func(i int) error {
			_, err := hpke.Seal(pks[i], kdf, aead, info, f.mk)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportPer1000(b)
}

func BenchmarkParseKeys1000(b *testing.B) {
	f, _, _ := benchSetup(b)
	b.ResetTimer()
	for b.Loop() {
		for _, m := range f.members {
			if _, err := ParseEphemeralPublicKey(m.PublicKey); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPer1000(b)
}

func BenchmarkSign1000(b *testing.B) {
	f, _, _ := benchSetup(b)
	env := f.seal(b, 0)
	priv := f.leader.Signer.(ed25519.PrivateKey)
	b.ResetTimer()
	for b.Loop() {
		for range benchMembers {
			ed25519.Sign(priv, env.signedMessage())
		}
	}
	reportPer1000(b)
}
