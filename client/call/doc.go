// Package call is the client's call engine (DESIGN.md sections 5 and 6): a
// full mesh of pion WebRTC peer connections between the devices of one
// meeting epoch, signalled with sealed and signed messages over a
// caller-provided Transport (the nodes' mailbox), with every media frame
// SFrame-encrypted end to end by client/sframe before pion sees it. It also
// has the media ends a headless participant needs: looping IVF (VP8) and
// Ogg (Opus) sources, a synthetic source for load tests, and IVF and Ogg
// sinks.
//
// The engine must never hand a sink a frame that did not authenticate under
// the current or previous epoch's key of the member the connection is
// with, never accept a signal from a device outside the current roster or
// whose signature does not verify under the roster's device key, never
// connect to a DTLS certificate other than the one the peer signed, never
// keep a meeting key (the sframe Sender and Keyring hold derived keys only,
// erased on Close), and never panic on bytes from the network.
//
// Notation: "a" || b is concatenation; u8, u32_be, u64_be are unsigned
// integers of 1, 4 and 8 bytes, big-endian; string literals are their
// ASCII bytes without terminator; [n] is a field of exactly n bytes.
//
// # Roster and roles
//
// Engine.SetEpoch gives the epoch number (1 or more), the 32-byte meeting
// key and the members (1 to MaxMembers = 8) in canonical roster order: a
// member's position is its SFrame sender index. For every pair of members
// the one whose "user/device" string sorts lower bytewise makes the offer
// (ties, possible only with "/" inside IDs, go to the lower (user, device)
// pair). On every SetEpoch the engine installs the keys at once, then
// closes connections to members no longer listed (sending them a bye) and
// offers to, or waits for offers from, new ones.
//
// # Signal encoding (version 1)
//
//	offset  size  field
//	0       1     version = 0x01
//	1       1     kind: 1 offer, 2 answer, 3 candidate, 4 bye, 5 restart, 6 keys,
//	              7 message
//	2       1     A = len(from_user), 1..64
//	3       A     from_user
//	        1     B = len(from_device), 1..64
//	        B     from_device
//	        1     C = len(to_user), 1..64
//	        C     to_user
//	        1     D = len(to_device), 1..64
//	        D     to_device
//	        16    meeting_id
//	        8     u64_be(epoch): the sender's current epoch
//	        16    session: random ID of the peer connection, drawn by the offerer
//	        8     u64_be(seq): per sender, never 0, each (sender, session, seq) accepted once
//	        1     F = len(fingerprint), 0..255
//	        F     fingerprint: the sender's DTLS certificate fingerprint as in
//	              SDP, "sha-256 AB:CD:..." (ASCII)
//	        4     P = u32_be(len(payload)), 0..65536
//	        P     payload: the SDP of an offer or answer; the a=candidate value
//	              ("candidate:...") of a candidate; empty for a bye, a
//	              restart and a keys
//
// The size is 59 + A + B + C + D + F + P bytes, at most MaxSignalSize.
// Offers, answers and candidates need a non-empty payload and fingerprint;
// a restart needs a fingerprint and no payload; a bye and a keys signal
// have no payload. A keys signal says the sender holds the keys of the
// epoch in its epoch field (transition.go); its session is a random ID
// the engine draws once for all its keys signals. A message signal
// carries an in-call message (message.go) under that same session; each
// sender's messages are taken at 5 a second on average, in bursts of 20. Every length is a prefix, nothing is optional and
// UnmarshalSignal refuses anything Marshal would not produce, so each
// signal has exactly one encoding.
//
// # Signature and sealing
//
//	signed = "parley/v1/signal" || u8(len(chain_id)) || chain_id || signal
//	sig    = Ed25519(sender's device key, signed)                    [64]
//	info   = "parley/v1/signal" || u8(len(chain_id)) || chain_id || meeting_id
//	enc, ct = HPKE base mode, KEM MLKEM768-X25519 (0x647a), KDF HKDF-SHA256,
//	          AEAD AES-256-GCM, to the recipient's ephemeral public key, with
//	          info, aad = u8(0x01), plaintext = signal || sig (one message)
//	body   = u8(0x01) || enc [1120] || ct [len(signal) + 64 + 16]
//
// The body is what Transport.Send carries; the transport sees nothing else
// of the signal. chain_id is 1 to 255 bytes.
//
// # Accepting a signal
//
// The engine opens a body with its ephemeral private key, then checks, in
// order, counting each refusal in SignalStats by reason: HPKE opens it
// (OpenFailed: tampered, another recipient, chain or meeting) and it
// decodes (Malformed); its sender is in the current roster (UnknownSender;
// a signal that arrives before the first epoch, or claims a newer epoch
// than the current one, is held, at most 64 for up to 10 s, and checked
// again after SetEpoch, since its sender may be new); the signature verifies
// under the DevicePub the roster gives that sender, never a key from the
// message (BadSignature); it is addressed to this device and meeting, and
// its signed sender equals the one the transport reports, if any
// (Misaddressed); its epoch is not older than the previous one (Stale);
// (sender, session, seq) is new and within 64 of the session's newest seq
// (Replayed); for offers and answers, every a=fingerprint of the SDP
// equals the signed fingerprint (FingerprintMismatch), and candidates,
// restarts and the offers and answers of an ICE restart must carry the
// fingerprint their session started with; it fits the session: offers
// and answers come from the member that offers, answers answer this
// device's open offer (or ICE restart), restarts come from the member that
// answers (Unexpected). pion then holds the DTLS handshake to the
// SDP's fingerprint, so a relay cannot sit inside a hop either.
//
// Sessions: an offer with a new session from the offering member replaces
// that member's connection; a bye closes the session it names; a
// connection that fails, closes, or is not up ReconnectTimeout after its
// offer (or after it went down) is closed, and the offerer starts a new
// session (after 1 to 2 s).
//
// ICE restart: an offer with the ID of the current session, from the
// offering member, restarts ICE on it (new ICE credentials, new
// candidates, the same DTLS certificate and SFrame keys): the answerer
// answers it like the first, and candidates that arrive before the answer
// wait for it. The offering member restarts when the connection goes
// disconnected (no packet for ICEDisconnectedTimeout) and when the
// answering member sends a restart — which it does in the same case,
// since only the offerer may offer. When this device's own addresses
// change (compared every InterfaceWatch) the sessions are replaced
// instead (addrsChanged says why). A restart without an answer,
// or one that has not brought the connection back, is repeated every 2 s;
// a connection still down ReconnectTimeout after it went down is replaced
// by a new session. Every restart takes fresh ICE servers (relay
// credentials expire).
//
// # Reachability
//
// Config.Reach gives the STUN and TURN servers (fixed ones, and the
// nodes' relays with time-limited credentials, fetched when the engine
// starts and again when two thirds of their life has passed), so that
// members gather host, server-reflexive and relay candidates, and
// RelayOnly, which gathers relay candidates only (ICE transport policy
// "relay") and blanks their related address ("raddr 0.0.0.0 rport 0"):
// no address of this device but the relay's reaches another member.
// PeerStats.Path says which candidate pair carries the media: "direct"
// (host, server- or peer-reflexive at both ends) or "relayed".
//
// # Media
//
// Each device sends one VP8 track (payload type 96, 90 kHz) and one Opus
// track (111, 48 kHz, stereo) to every peer, one pion track shared by all
// connections. Each encoded frame is encrypted once by the device's
// sframe.Sender (one KID and counter sequence for both tracks) and written
// with TrackLocalStaticSample.WriteSample:
//
//	clear_prefix || sframe_header || ciphertext || tag
//
// (layout and key derivation in client/sframe's doc). The clear prefix (10
// bytes of a VP8 key frame, 3 of a delta frame, the Opus TOC byte) keeps
// what RTP packetizers and depacketizers read, so pion's VP8 payloader
// (RFC 7741 payload descriptor with a picture ID, S set on a frame's first
// packet, marker on its last) and Opus payloader (one packet per frame)
// work on the ciphertext as on a clear frame, and so do browsers'. The receiver
// reassembles frames with pion's samplebuilder and VP8 or Opus
// depacketizer and hands each to the sframe.Keyring. Before decrypting, it
// refuses a frame whose KID is not the one the connection's member sends
// under in the epoch the KID names (sender index << 8 | epoch mod 256), so
// that one member cannot move another's replay window; it checks the
// same again on the decrypted frame's header. Refused frames are counted
// per peer (PeerStats.Rejected) as AuthFailed, Replayed, UnknownKID
// (including another member's KID), NoKey, Malformed or Other, and never
// reach the sink.
//
// # Congestion control and key frames
//
// Every connection runs transport-wide congestion control: a TWCC
// sequence number on every RTP packet (RTP header extension
// http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01),
// TWCC feedback on every packet received (rtcp-fb transport-cc), and
// Google Congestion Control (pion/interceptor's gcc, delay- and
// loss-based, without its pacer) estimating what the path carries, from
// InitialBitrate within MinBitrate..MaxBitrate. PeerStats.TargetBitrate
// is a connection's estimate and Engine.TargetBitrate the lowest over the
// connected peers, since one encoded track goes to all of them; a video
// Source that implements BitrateController is set to it, less 64 kbit/s
// for audio, every 200 ms.
//
// A receiver asks for a key frame (RTCP PLI) when a video track starts
// and whenever a frame is lost for good (its packets not recovered by
// NACK within 500 ms of RTP time), at most every 500 ms per track. A
// sender answers a peer's PLI or FIR by asking its video Source for a key
// frame (KeyframeRequester; the synthetic source makes its next frame
// one, an IVF file starts over, at most every 2 s) and by telling anyone
// reading Engine.KeyframeRequests (the page's bridge asks the browser's
// encoder).
//
// # Relay mode
//
// With Config.MediaRelay, a roster of more than MeshLimit members is
// carried by one connection to a node's media relay (relaylink.go, on
// node/sfu's wire contract): this device's tracks on mids pa, pv and ps,
// the slots it receives, and a data channel for the relay's slot map and
// the members' frame signatures. Frames are sealed as on the mesh; every
// frame sent on the link is also added to this device's frame signatures
// (client/framesig), and a relayed frame is attributed by its KID alone
// and kept only while its sender's signatures verify. The mesh stays up
// until the link is.
//
// A camera whose Source is a SimulcastSource (SimulcastSyntheticSource;
// `parley call`'s synthetic camera with --media-relay) goes to the relay
// as simulcast: three encodings of the pv transceiver, RIDs q, h and f
// (a=simulcast:send q;h;f), whose packets carry the sdes:mid and
// sdes:rtp-stream-id header extensions by which the relay tells them
// apart (simulcast.go). Each layer's frame is sealed on its own, under
// its own counter of the one sframe.Sender, and signed like any other,
// so a subscriber the relay moves between layers (at a key frame, by its
// bandwidth) never sees a counter twice, and the signature batches, which
// list every counter sent, cover whichever layer it got. The mesh gets
// the full layer alone, as one stream on the camera track; the lower two
// are sealed only while the link is up. RelayStats.Layers counts what
// each layer carried.
//
// # Media files
//
// IVFSource reads VP8 IVF files: a 32-byte header ("DKIF", version, header
// size, "VP80", u16 width, u16 height, u32 rate, u32 scale, u32 frame
// count, 4 unused bytes; little-endian) and frames of a 12-byte header
// (u32 size, u64 pts in units of scale/rate seconds) and the frame. A frame
// lasts until the next one's pts. IVFSink writes the same layout with rate
// 90000 and scale 1, pts being the RTP timestamp minus the first one's,
// width and height from the first key frame; frames before it are skipped.
//
// OggSource reads Ogg Opus files (RFC 7845) with exactly one Opus packet
// per page, as ffmpeg writes with -page_duration 20000; a packet lasts what
// its TOC byte says (RFC 6716 3.1), and a page whose granule position
// advances by more (beyond the first page's pre-skip) is refused with
// ErrUnsupportedMedia. OggSink writes one packet per page with pion's
// oggwriter. Both sources start again at the end of their file and pace
// nothing themselves: the engine sends each frame when the previous one's
// duration has passed.
//
// # Goroutines
//
// Run's goroutine owns every connection and all signalling state; pion's
// callbacks only queue events for it. Besides, each source has a pump,
// the relay credentials a fetcher, the device's addresses a watcher,
// each peer an outbox that seals and sends its signals in order, each
// local track (each simulcast encoding) on each connection an RTCP
// reader, and each remote track a reader on pion's OnTrack goroutine.
// Run returns only after every one of them has ended and the keys are
// erased.
package call
