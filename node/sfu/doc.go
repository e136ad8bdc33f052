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
// Drop ends a session at once. It imports nothing under client/, and
// nothing of CometBFT: the caller carries its messages to peer relays.
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
//   - cascade (cascade.go, handlepeer.go, push.go, pull.go, remote.go,
//     link.go, peermsg.go): the links with the relays of other nodes,
//     through Config.Peers, HandlePeer and PeerGone; the members of other
//     relays as sources of a meeting.
//   - package sfutest: a pion client of the wire contract, for tests, and
//     an in-memory transport between relays (Net).
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
// first the subscriber's pins, then the members speaking now (as audio
// slots hold them: speaking, or within the hangover), loudest first,
// then the speaker history, most recent first, then everyone else in
// join order (several may speak at once, and only one is dominant); never the subscriber, only
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
// A session's slots are filled only once its data channel is open on the
// relay's side: the signatures of every frame a member gets come on that
// channel, and a frame whose signature the relay could not pass on gets
// its sender cut by the member's client.
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
// # Cascade
//
// Members connect to the relay of their own node. The relays of a
// meeting's nodes link up so that every member gets every other's media,
// each track crossing between two relays once. Relays are peers of a
// transport the caller gives (Config.Peers): in parleyd, CometBFT's p2p
// switch on channel api/cascade/v1 ChannelID (0x71), peers known by their
// authenticated node IDs (node/cascade.go). The messages are
// api/cascade/v1 Message, each at most MaxMessageSize:
//
//   - Announce(meeting_id, serving): a relay that has sessions of its own
//     in a meeting (it serves it) broadcasts serving=true at once, then
//     every 2 s, and serving=false once when its last session leaves. A
//     peer's announce holds 7 s. A relay remembers only announces of
//     meetings it serves itself, and answers one that is new to it with
//     its own at once, so both sides know within a round trip.
//   - Offer and Answer(meeting_id, link, sdp): the signalling of a push
//     link, complete SDP (candidates gathered), no trickle.
//
// The pair rule: for each meeting two relays both serve, each offers the
// other one push link — a PeerConnection, sendonly, with a track for each
// stream its own sessions publish (every simulcast layer) and a data
// channel "parley-cascade" for their opaque messages — and answers the
// other's. Only the offerer of a link ever offers on it: it offers again
// on the same connection when its own sources change (an ended track's
// m-line goes inactive), so there is no glare; an offer unanswered for
// 10 s, or a link whose m-lines pass 192, is replaced by a new link ID.
// A relay drops both links of a pair when either side stops serving,
// when the peer's announces stop, when a link's connection fails, and at
// once when the peer goes away (PeerGone).
//
// On a push link a track's stream ID is the member's "user/device" and
// its ID "audio", "screen", "camera" or "camera-q|h|f" — labels that are
// advisory, like the slots message: clients know senders by SFrame KID
// and frame signatures. Packets go as the publisher sent them (sequence
// numbers, timestamps, payload), with the audio level under the link's
// extension ID and nothing else of the publisher's extensions. The
// receiving relay makes each track a source of a remote member named by
// the stream ID: a member without slots, scored for speech and chosen for
// slots like any other, its layers allocated like a local simulcast, so
// last-N, the loudest three and the screen are chosen among the members
// of all the relays. A PLI or FIR for a remote source goes back over the
// link and on to the publisher, each relay spacing requests per source as
// it does for its own. Opaque messages on the link carry their sender's
// name (u8 length, name, the message) and go to the receiving relay's own
// sessions but one of that name.
//
// Media go on a push link only once its data channel is open; when a link
// closes, or a relay closes, its media stop at once and its data channel
// stays open for a second (drainDelay), so that every frame a member of
// another relay got is followed by the signature that covers it — without
// it, that member's client would cut the sender for the epoch.
//
// Why a full mesh of links, and no relay passing on what came from
// another: each relay has the tracks of the meeting's other relays
// straight from their origin, once; nothing can loop, and no relay has to
// know the others' view of the meeting. The cost is one link each way
// per pair of relays serving a meeting, which the few nodes a meeting
// spans can carry.
//
// What a peer can make a relay do, and keep: state for at most 256 peers
// (one it keeps nothing for makes room for a new one); per peer, its
// announces of meetings the relay serves (at most 1024) and one push and
// one pull link each; per link at most 192 m-lines and 96 tracks, and so
// at most 96 remote members; 500 announces and 20 offers and answers a
// second, 2000 opaque messages a second per link, each at most 16 KiB.
// Past a bound a message is dropped (ErrPeerLimit); a malformed one is
// refused (ErrBadPeerMessage), and parleyd disconnects a peer after ten.
// A peer that announces a meeting the relay serves gets the relay's
// members' encrypted media and opaque messages — what a relay sees
// itself; the relay cannot tell whether the peer has members. It cannot
// make the relay send a stream into a meeting the relay does not serve,
// give a remote member a slot of its own, take a name from one of the
// relay's sessions (a remote member whose name a session holds is never
// chosen), nor get anything it sends passed on to another peer.
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
//     or the recheck moves on;
//   - pass anything that came over a link — a remote member's stream or
//     opaque message — onto another link: push links carry the relay's
//     own sessions' sources and messages only;
//   - offer a push link, or take a pull link, for a meeting it does not
//     serve itself, or with a peer that has not announced serving it;
//   - send media on a push link, or to a session, before its data
//     channel is open, or close a link's data channel together with its
//     media;
//   - keep a remote member after its link is gone: its sources leave
//     every slot at once.
package sfu
