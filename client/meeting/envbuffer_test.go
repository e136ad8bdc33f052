package meeting

import (
	"testing"
	"time"
)

func TestEnvBufferBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	b := envBuffer{now: func() time.Time { return now }}
	alice, carol := DeviceRef{User: "alice", Device: "laptop"}, DeviceRef{User: "carol", Device: "desk"}
	// Far epochs first, then the next one: the next one evicts the furthest.
	for e := uint64(10); e < 10+envPerSender; e++ {
		if !b.add(alice, e, Delivery{}) {
			t.Fatalf("epoch %d refused below the bound", e)
		}
	}
	if b.add(alice, 50, Delivery{}) {
		t.Fatal("an envelope further than every kept one was kept over the bound")
	}
	if !b.add(alice, 2, Delivery{}) {
		t.Fatal("the next epoch was crowded out by far ones")
	}
	if got := len(b.take(13)); got != 0 {
		t.Fatalf("the furthest (13) should have been evicted, %d left", got)
	}
	if got := len(b.take(2)); got != 1 {
		t.Fatalf("take(2) = %d envelopes", got)
	}
	// The total bound holds across senders.
	for i := range 2 * envTotal {
		b.add(DeviceRef{User: "m", Device: string(rune('a'+i%26)) + string(rune('a'+i/26))}, 5, Delivery{})
	}
	if len(b.items) > envTotal {
		t.Fatalf("%d kept, bound %d", len(b.items), envTotal)
	}
	// Expiry.
	b.add(carol, 3, Delivery{})
	now = now.Add(envTTL)
	b.expire()
	if len(b.items) != 0 || b.drops.Expired == 0 {
		t.Fatalf("after the TTL: %d kept, %d expired", len(b.items), b.drops.Expired)
	}
}
