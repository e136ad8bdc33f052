package meeting

import (
	"fmt"
	"slices"
	"time"
)

// Bounds of the key envelopes a member keeps until their epoch is proven.
const (
	envPerSender = 4               // an honest leader sends one per epoch
	envTotal     = 32              // leader plus claimants, a few epochs ahead
	envTTL       = 2 * time.Minute // the mailbox keeps them this long (120 s)
)

// envBuffer keeps key envelopes that arrived before their epoch could be
// proven: only from devices the member expects keys from, whose signature
// was checked before keeping anything, a few per sender and a bounded
// number in all, each for at most envTTL. What it refuses it counts.
type envBuffer struct {
	now   func() time.Time
	items []keptEnvelope
	drops EnvelopeDrops
}

type keptEnvelope struct {
	d      Delivery
	sender DeviceRef
	epoch  uint64
	at     time.Time
}

// EnvelopeDrops counts the key envelopes a member refused to keep.
type EnvelopeDrops struct {
	Unreadable, NotExpected, BadSignature, SenderFull, BufferFull, Expired uint64
}

// Total is the number of envelopes refused.
func (d EnvelopeDrops) Total() uint64 {
	return d.Unreadable + d.NotExpected + d.BadSignature + d.SenderFull + d.BufferFull + d.Expired
}

func (d EnvelopeDrops) String() string {
	return fmt.Sprintf("%d unreadable, %d from devices no key is expected from, %d with a bad signature, %d over the per-sender bound, %d over the total bound, %d expired",
		d.Unreadable, d.NotExpected, d.BadSignature, d.SenderFull, d.BufferFull, d.Expired)
}

// add keeps d, an envelope for epoch signed by sender, within the bounds.
// When a bound is reached the envelope for the furthest epoch goes (the
// new one if it is the furthest): the next epoch is the one a member
// waits for, so envelopes for epochs far ahead cannot crowd it out.
func (b *envBuffer) add(sender DeviceRef, epoch uint64, d Delivery) bool {
	b.expire()
	n, senderFar, far := 0, -1, -1
	for i, k := range b.items {
		if k.sender == sender {
			n++
			if senderFar < 0 || k.epoch > b.items[senderFar].epoch {
				senderFar = i
			}
		}
		if far < 0 || k.epoch > b.items[far].epoch {
			far = i
		}
	}
	switch {
	case n >= envPerSender && epoch >= b.items[senderFar].epoch:
		b.drops.SenderFull++
		return false
	case n >= envPerSender:
		b.drops.SenderFull++
		b.evict(senderFar)
	case len(b.items) >= envTotal && epoch >= b.items[far].epoch:
		b.drops.BufferFull++
		return false
	case len(b.items) >= envTotal:
		b.drops.BufferFull++
		b.evict(far)
	}
	b.items = append(b.items, keptEnvelope{d: d, sender: sender, epoch: epoch, at: b.now()})
	return true
}

func (b *envBuffer) evict(i int) { b.items = slices.Delete(b.items, i, i+1) }

// take removes and returns the envelopes for epoch.
func (b *envBuffer) take(epoch uint64) []Delivery {
	var out []Delivery
	kept := b.items[:0]
	for _, k := range b.items {
		if k.epoch == epoch {
			out = append(out, k.d)
		} else {
			kept = append(kept, k)
		}
	}
	clear(b.items[len(kept):])
	b.items = kept
	return out
}

// dropThrough forgets envelopes for epochs up to installed.
func (b *envBuffer) dropThrough(installed uint64) {
	kept := b.items[:0]
	for _, k := range b.items {
		if k.epoch > installed {
			kept = append(kept, k)
		}
	}
	clear(b.items[len(kept):])
	b.items = kept
}

// expire forgets envelopes kept longer than envTTL.
func (b *envBuffer) expire() {
	now := b.now()
	kept := b.items[:0]
	for _, k := range b.items {
		if now.Sub(k.at) < envTTL {
			kept = append(kept, k)
		} else {
			b.drops.Expired++
		}
	}
	clear(b.items[len(kept):])
	b.items = kept
}

// next returns the lowest epoch above after that envelopes wait for.
func (b *envBuffer) next(after uint64) (uint64, bool) {
	var lowest uint64
	for _, k := range b.items {
		if k.epoch > after && (lowest == 0 || k.epoch < lowest) {
			lowest = k.epoch
		}
	}
	return lowest, lowest != 0
}
