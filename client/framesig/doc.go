// Package framesig signs media frames with the sender's device key, so that
// one member of a meeting cannot pass media off as another's.
//
// SFrame keys are per group (client/sframe): every member of an epoch can
// derive every sender's key. A member colluding with the relay could
// therefore encrypt frames under another member's KID and have the relay
// deliver them as that member's; SFrame alone cannot tell. So each sender
// signs digests of the frames it seals, in batches, with its Ed25519 device
// key (the one the verified roster lists), and each receiver checks the
// frames it got against those batches and cuts a KID whose frames'
// signatures fail or never come.
//
// The parts:
//
//   - Signer: one per sending device. Add for every sealed frame; it
//     returns a signature message when a batch is due. Flush on a timer.
//   - Verifier: one per receiving device. Frame for every frame that
//     decrypted, Message for every signature message, Sweep on a timer;
//     Cut and Sweep say which (epoch, KID) to stop playing and why.
//   - Digest: the frame digest both sides compute.
//
// What the package must never do:
//
//   - report a frame verified (Verified, Stats.Verified) that no validly
//     signed batch covers with the same digest;
//   - cut a KID on the word of a message whose signature does not verify
//     under the key the roster gives for its (epoch, KID): a refused
//     message changes nothing but Stats, so strangers sending junk cut
//     no one;
//   - leave a frame unjudged: every frame Frame answers Pending is, within
//     MissingAfter and one Sweep, either verified or its KID held or cut — this is
//     what makes it safe for the caller to play frames before their batch
//     comes;
//   - grow without bound: pending frames, signed digests, (epoch, KID)
//     states and unreported cuts are all capped (see Bounds);
//   - panic on any bytes.
//
// Notation: "a" || b is concatenation; u8, u16_be, u64_be are unsigned
// integers of 1, 2 and 8 bytes, big-endian; string literals are their
// ASCII bytes without terminator; x[n] is a field of exactly n bytes, and
// x[:n] the first n bytes of x.
//
// # Format (version 1)
//
//	digest(frame) = SHA-256("parley/v1/frame" || frame)[:16]
//	   frame = the sealed frame exactly as sent: clear codec prefix || SFrame header || ciphertext || tag
//
//	batch  = u8(version = 1) || u64_be(epoch) || u64_be(kid) || u64_be(first_ctr) || u16_be(n) || n × digest[16]
//	         n in 1..MaxBatch (MaxBatch = 512); digest i is of the frame with SFrame counter first_ctr + i under kid
//	signed = "parley/v1/frame-sig" || u8(len(chain_id)) || chain_id || meeting_id[16] || batch
//	message = batch || Ed25519(sender device key, signed)[64]
//
// A message is 27 + 16n + 64 bytes, at most MaxMessageSize (8283).
// chain_id is 1 to 255 bytes. first_ctr + n − 1 must not pass 2^64 − 1.
// A message of any other length, another version, n outside 1..MaxBatch
// or a counter range that wraps is malformed, so each batch has one
// encoding. The frame is the whole sealed frame, whose every byte the
// SFrame AEAD authenticates, so sender and receiver hash the same bytes.
// No other label the device key signs under starts with
// "parley/v1/frame-sig" ("parley/v1/frame" is a hash label, never signed).
//
// # Signing
//
// A sender's counters under one KID are contiguous: one SFrame sender per
// device, and all its tracks share the counter, so a batch covers a
// contiguous counter range. Signer.Add is called once for every frame
// sealed, in counter order (under the lock that orders the sealing, or
// batches fragment), with the epoch and KID it was sealed under. It
// returns a message when the batch is due:
//
//   - Interval (DefaultInterval, 250 ms, on the injected clock) has passed
//     since the batch's first frame, this frame included;
//   - the batch holds MaxBatch frames (or WithMaxBatch's limit);
//   - the (epoch, KID) changed or ctr is not the next counter: then the
//     open batch is finished first and the frame starts a new one.
//
// Flush finishes the open batch at once; the caller also calls it on a
// timer (every Interval) so that a quiet sender's last frames get signed.
// Frames sealed but never sent are listed too, which is harmless: a
// receiver checks only the counters it got. The caller sends every message
// to every receiver of its media, over the relay like the media. A counter
// given to Add twice with two different frames gets this sender cut for
// equivocation by everyone who sees both batches.
//
// # Verifying
//
// A receiver calls Frame for every frame that decrypted, with the epoch and
// KID of the key that opened it and its counter, and Message for every
// signature message. It must get the messages sent after the first frame
// it gives Frame for a KID (subscribe to them before the media). The
// Verifier keeps its state per (epoch, KID), since counters start again at
// 0 each epoch and KIDs (sender_index << 8 | epoch mod 256) repeat every
// 256 epochs.
//
// Frames are played before their batch arrives: waiting would add Interval
// and more to every frame's latency. The Verifier only reports. Frame
// answers Verified (a valid batch already covered the counter with the
// same digest: the batch overtook the frame), Pending (recorded, waiting
// for its batch), Hold (the KID is held, below: keep the frame unplayed
// and ask Settled until it says Verified — play it — or Drop) or Drop (the
// KID is cut: the caller drops the frame).
//
// When a frame of a KID goes unsigned past MissingAfter (DefaultMissingAfter,
// 1.5 s; a caller may allow more), Sweep does not cut the KID but holds it:
// the frames it played unverified are given up (Stats.Unverified), and
// from then on, for as long as the Verifier keeps the (epoch, KID), its
// frames play only once verified. Batches late under load — a relay's
// congested data channel, a retransmission after a loss — thus cost the
// sender's receivers a batch of latency instead of the sender's media, and
// a forger who relabels its frames under another member's KID without
// taking that member's counters gets at most MissingAfter of media played
// before nothing of it plays again. Held frames no batch covers within
// MissingAfter expire unplayed (Stats.HeldExpired). Sweep reports a hold
// as a Cut with Held set.
//
// Message checks, in order, that the message parses (ErrMalformed), that
// keyFor gives a key for its (epoch, KID) — the device key of the member
// that sends under that KID in the verified roster — (ErrUnknownSender),
// and that the signature verifies under that key over signed
// (ErrBadSignature). Each refusal is counted in Stats and changes nothing
// else. A valid batch then, counter by counter, verifies the pending frame
// of that counter if the digests match, and keeps the digest for four
// times MissingAfter (in a window of SignedWindow counters per KID) to
// check frames that arrive after it — under load a batch on the relay's
// data channel can overtake its frames by seconds — and later batches.
//
// A cut is for good (for as long as the Verifier keeps the (epoch, KID),
// see Bounds) and its reason wraps one of:
//
//   - ErrForged: a valid batch lists another digest for a counter than the
//     frame received under it, whichever came first; or two different
//     frames arrived under one counter (only a holder of the group key can
//     make a frame that decrypts, and the owner seals one per counter).
//   - ErrEquivocated: two valid batches list different digests for one
//     counter: the holder of the device key signed two frames under it.
//   - ErrUnsigned: the KID had MaxPendingPerKID frames pending and got one
//     more; or MaxPending frames were pending in all and this KID had the
//     most. (A frame unsigned past MissingAfter holds the KID instead.)
//
// A cut means frames under that KID cannot be trusted, not that its owner
// misbehaved: anyone holding the group key can forge under it. Only
// ErrEquivocated points at the key's holder. Sweep (call it about every
// 100 ms) returns every cut made since the previous Sweep — by Frame,
// Message or itself — sorted by epoch and KID; Cut answers for one.
//
// # Threat model
//
// Who attacks, and what happens:
//
//   - A member colluding with the relay relabels its frames with another
//     member's KID (it holds the group key, so they decrypt). Caught: the
//     victim never signs those digests, so the frames stay pending and the
//     KID is held after MissingAfter (from then on only the victim's
//     signed frames play), or the victim's real batch for the same counters
//     mismatches and cuts it as ErrForged at once. The attacker's own
//     signature over them under the victim's KID fails (ErrBadSignature:
//     keyFor gives the victim's key), and under its own KID covers nothing
//     pending under the victim's. What it does get is up to MissingAfter of
//     forged media played once, and, by taking the victim's counters, the
//     victim's KID cut: an availability attack the relay has anyway.
//   - A relay that replays an old batch: harmless. The same digests match
//     what is kept; a batch of another epoch, chain or meeting is checked
//     under that epoch's key or fails its signature.
//   - A relay that drops signature messages, or delays frames past their
//     batch's window: the sender is cut as ErrUnsigned. An availability
//     attack, which the relay has anyway by dropping the media.
//   - A stranger, or a member, flooding junk messages: refused before any
//     state is touched; they never cut anyone. Each costs at most one
//     signature check.
//   - A member flooding frames (it can make them decrypt) to evict others'
//     pending frames: nothing pending is ever evicted without a cut, so a
//     flood never lets a forged frame go unjudged. It cuts KIDs instead:
//     its own, those it forges under, or, spread thin over many KIDs, the
//     one with the most pending — which could be an honest one, but a
//     member with the relay can get any KID cut anyway by forging one
//     frame under it.
//
// # Bounds
//
// At most MaxPending (4096) frames pending in all and MaxPendingPerKID
// (1024) per (epoch, KID) — an honest sender has about its frame rate
// times (Interval + network delay) pending, a few hundred at most; at most
// SignedWindow (512) signed digests kept per (epoch, KID), the lowest
// counters giving way, each for MissingAfter; at most MaxSenders (256)
// (epoch, KID) states. A state with nothing pending and not cut is
// dropped by Sweep once its digests expire, or earlier to make room. When
// the table is full of states with frames pending or cut, a frame that
// needs a new state makes room by forgetting the cut state of the oldest
// epoch (whose keys a receiver no longer holds), and is answered Drop if
// there is none; a message that would need one is checked and its digests
// not kept. At most MaxSenders cuts wait for Sweep. All told a Verifier
// holds at most about 5 MB (MaxSenders windows of 20 KB, and the pending
// frames), and an honest meeting's a few hundred KB.
//
// Signer and Verifier are safe for concurrent use. Time comes from
// WithClock, so tests need not sleep.
package framesig
