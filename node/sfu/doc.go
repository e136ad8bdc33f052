// Package sfu is the relay a meeting uses when a full mesh is too much:
// a selective forwarding unit. Each member sends its media once to the
// relay, and the relay forwards to each member the streams it should see.
// Media are SFrame-encrypted end to end by the clients; the relay never
// holds a key. It reads RTP headers, the VP8 payload descriptor and the
// first byte of the VP8 payload (left in the clear by SFrame on purpose),
// the audio level header extension, and timing — nothing else.
//
// It is a library. Admission is the caller's: Join is called for members
// it has admitted, StillMember is asked again every RecheckEvery, and
// Drop ends a session at once. It imports nothing under client/.
//
// The parts:
//
//   - Relay (relay.go, join.go): Join checks the offer, makes the member's
//     PeerConnection and answers it; Run keeps choices and membership
//     current; Stats, Drop, Close. Errors are the sentinels of errors.go,
//     wrapped with what was wrong.
//   - parseOffer (offer.go): the wire contract, checked before pion sees
//     the offer.
//   - session (session.go, datachannel.go): one member's connection, its
//     published sources, its slots, its data channel.
//   - meeting (meeting.go, allocate.go, speaker.go): who is in which slot,
//     chosen from speech scores, pins, join order and estimates.
//   - source and downTrack (source.go, downtrack.go): a published stream
//     read once, and a slot forwarding one source at a time.
//   - munger and vp8Desc (munger.go, vp8.go): the renumbering that makes
//     a slot one continuous stream whatever its source.
//   - package sfutest: a pion client of the wire contract, for tests.
//
// # Wire contract
//
// Codecs: VP8, payload type 96, 90 kHz, with rtcp-fb nack, nack pli,
// transport-cc and goog-remb; Opus, payload type 111, 48 kHz, 2 channels,
// fmtp minptime=10;useinbandfec=1, with transport-cc. Header extensions:
// urn:ietf:params:rtp-hdrext:ssrc-audio-level (audio),
// http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
// (audio and video), and urn:ietf:params:rtp-hdrext:sdes:mid,
// urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id and
// urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id (video, for
// simulcast; a simulcast sender puts mid and rtp-stream-id on its packets,
// as browsers do).
//
// The client's offer is complete (it waited for ICE gathering); the
// answer is too. Its transceivers are known by mid:
//
//   - pa, audio, sendonly: the member's audio, with ssrc-audio-level.
//   - pv, video, sendonly: the member's camera, one stream or simulcast
//     with RIDs q (quarter), h (half) and f (full), a=simulcast:send q;h;f.
//   - ps, video, sendonly: the member's screen share, one stream.
//   - ra0..ra2, audio, recvonly: audio slots, 0 to 3.
//   - rv0..rv{N-1}, video, recvonly: camera slots, N the client's last-N,
//     0 to 16.
//   - rs0, video, recvonly: the screen slot, 0 or 1.
//   - one data channel, label parley-relay, ordered and reliable, opened
//     by the client (the offer has its application m-line).
//
// The relay answers each r* mid sendonly with a track of its own (its own
// SSRC, kept for the session). An offer with an unknown mid, a slot gap,
// more than 3 audio or 16 video slots, a publishing mid that is not
// sendonly or a slot that is not recvonly, simulcast on another mid than
// pv or with other RIDs than q, h and f, another codec at 96 or 111, or no
// data channel is refused with ErrBadOffer naming the m-line and the
// fault.
//
// Data channel messages are one type byte and a body:
//
//   - 0x01, relay → client, slots: {"slots":{"rv0":{"member":"user/device",
//     "layer":"f"},"ra0":{"member":"..."},...}}, sent when the mapping
//     changes (at the switch, not when one is pending). Advisory: clients
//     identify senders by SFrame KID, never by this. "layer" is the RID of
//     a simulcast camera, absent for a single stream.
//   - 0x02, client → relay, prefs: {"pin":["user/device",...]}, the
//     members the client wants in its video slots first (at most 16 kept).
//     Up to 10 a second (after a burst of 20) refill its slots at once;
//     beyond that they wait for the next allocation round.
//   - 0x03, any direction, opaque: forwarded unchanged, type byte
//     included, from the sender to every other session of its meeting
//     that forwards or is switching to one of the sender's tracks in one
//     of its slots, or stopped less than 3 s ago (clients carry frame signatures in it, which only the
//     members receiving the frames need; in a meeting of 30 with last-N
//     6, sending them to all would multiply the channels' load by about
//     three, and a channel that falls behind gets its members' frames cut
//     as unsigned). Per sender at most 50 a
//     second after a burst of 100, each at most 16 KiB; the rest is
//     dropped, and so is a message for a member whose channel has 1 MiB
//     unsent.
//   - Anything else, bad JSON, oversized messages: ignored.
//
// # Forwarding
//
// Each published stream (each simulcast layer) is read once; each packet
// is parsed once and handed to the slots forwarding it. A slot has one
// current source and at most one pending. Audio switches at the next
// packet of the new source. Video switches only at a key frame of the new
// source — the packet with S=1, partition 0, and the VP8 payload's first
// byte with bit 0 (P, inverse key frame) clear: the relay sends that
// source a PLI and keeps forwarding the old one until it comes, asking
// again every 500 ms while it waits. Like LiveKit's forwarder, it never
// cuts to a stream a decoder cannot start.
//
// A slot's numbering is its own (munger.go, after LiveKit's RTPMunger and
// VP8Munger): sequence numbers run on by one across switches and across
// the packets the relay drops itself (padding-only ones), timestamps move
// on by the wall time between the last packet of the old source and the
// first of the new, and the VP8 PictureID and TL0PICIDX, when present,
// go on by one at a switch; they are rewritten in place, in the width the
// source uses. A retransmitted packet is numbered as it was first; one
// from before the switch is dropped. Header extensions are not passed on,
// but for the audio level, under the subscriber's extension ID; pion adds
// the relay's transport-cc numbers. Payload bytes after the VP8
// descriptor and the whole Opus payload go out as they came.
//
// A PLI or FIR from a subscriber on a slot goes on as a PLI to the slot's
// current source, at most one per source per 500 ms whoever asks;
// suppressed ones are counted. NACKs are answered by pion's NACK
// responder from the relay's own send buffer; the relay NACKs publishers
// for what it lost. RTCP reports and transport-wide congestion control
// run per connection; a Google Congestion Control estimator (without a
// pacer) estimates what the relay can send each subscriber.
//
// # Choosing what each member gets
//
// Every 100 ms (Run) the relay scores speech, and every 200 ms (and at
// every join, leave, pin and ended stream) it chooses slots.
//
// Speech (speaker.go) is a simplification of Jitsi's dominant speaker
// identification: one 400 ms window of four 100 ms buckets instead of
// its three time scales. Each packet's RFC 6464 level L (0 loudest, 127
// silence) counts as max(0, 70 − L) — silence below −70 dBov — and as 0
// without the V bit from a sender that sets it; a bucket is the mean of
// its packets (0 with none, so muted and DTX audio decay), the score the
// mean of the buckets. A score of 8 or more is speaking. Audio without
// the level extension scores 0: the contract requires it on pa. The dominant
// speaker is the loudest one speaking; a new one takes over from one
// still speaking only when 1.5 times as loud. Each new dominant speaker
// goes to the head of the meeting's speaker history.
//
// Audio slots get the loudest members speaking, never the subscriber
// itself. A member keeps its slot while speaking and for a second after;
// a louder one takes the slot of the weakest holder only when louder than
// 1.25 times its score plus 2. Silent and absent audio is not forwarded.
//
// Video slots follow Jitsi's last-N: at most N members (N the rv* count),
// first the subscriber's pins, then the speaker history, most recent
// first, then everyone else in join order; never the subscriber, only
// members whose camera sent in the last 2 s. A member keeps the slot it
// has as long as it stays in the N; newcomers take the freed slots.
//
// The screen slot gets the most recently started screen share in the
// meeting that sent in the last 2 s, never the subscriber's own.
//
// Simulcast layers, as LiveKit's stream allocator does it but simpler:
// the subscriber's estimate (its connection's GCC target) is shared
// evenly among its filled video slots, and each gets the highest layer
// that sent in the last second whose bit rate, measured over a second,
// fits its share — the lowest active layer when none does. Moving up needs
// 20% headroom over the layer's rate; staying needs none. The change
// happens at a key frame of the new layer, like any switch.
//
// # Sessions
//
// A second Join of the same (meeting, user, device) replaces the session:
// the old one closes when the new one is in. A session ends when its
// connection fails or closes, when it has not connected 20 s after Join,
// when Drop is called, or when StillMember says no (an error is not a
// no); it leaves at once — its sources leave every slot and its slots
// stop — and its connection closes after. Every goroutine the relay
// starts ends by Close; every map it keeps is bounded by MaxSessions,
// MaxPerMeeting or the contract's limits.
//
// # What the relay must never do
//
//   - hold or ask for a key: it has no SFrame code and no use for one;
//   - alter a payload byte after the VP8 payload descriptor, or any byte
//     of an Opus payload;
//   - forward a member's media back to itself;
//   - serve anyone the caller did not admit: a connection exists only for
//     a Join, and only for the member Join named;
//   - keep forwarding to, or from, a member StillMember has turned away or
//     Drop has named: its slots and its sources stop before Drop returns
//     or the recheck moves on.
package sfu
