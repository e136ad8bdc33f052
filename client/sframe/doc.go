// Package sframe encrypts and decrypts media frames end to end: SFrame
// (RFC 9605) exactly, and on top of it Parley's media layer (DESIGN.md
// section 6) that turns an epoch's meeting key into per-sender keys, keeps
// a codec's leading bytes readable for RTP packetizers, and drops replayed
// and foreign frames.
//
// The package must never deliver plaintext that did not authenticate,
// never use a nonce twice, never keep a meeting key or a superseded
// epoch's keys past their grace window, never derive keys per frame, and
// never panic on any input bytes.
//
// # SFrame (RFC 9605)
//
// Header, Key, NewKey, Key.Encrypt and Key.Decrypt are RFC 9605 as written,
// checked against every vector of the working group's test-vector file
// (testdata/sframe-rfc9605.json). All cipher suites of the IANA registry
// are implemented: 0x0001–0x0003 AES_128_CTR_HMAC_SHA256_{80,64,32},
// 0x0004 AES_128_GCM_SHA256_128, 0x0005 AES_256_GCM_SHA512_128, and
// 0x0006–0x0008 AES_256_CTR_HMAC_SHA512_{80,64,32}.
//
// Header (section 4.3): a config byte X|K(3)|Y|C(3); a KID or CTR of 0–7
// sits in K or C with X or Y clear; a larger one follows the config byte,
// KID first, big-endian in the fewest bytes (1–8) that hold it, with X or
// Y set and K or C = length − 1. ParseHeader rejects any other encoding.
//
// Keys (section 4.4.2), with the suite's hash H (SHA-256 for 0x0001–0x0004,
// SHA-512 for 0x0005–0x0008):
//
//	sframe_secret = HKDF-Extract(salt = "", IKM = base_key)
//	sframe_key    = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret key "  || u64_be(KID) || u16_be(suite), Nk)
//	sframe_salt   = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret salt " || u64_be(KID) || u16_be(suite), 12)
//
// (the labels end in one space). Per frame (section 4.4.3):
//
//	nonce      = sframe_salt XOR (12 bytes: 4 zero bytes || u64_be(CTR))
//	aad        = header || metadata
//	ciphertext = header || AEAD.Encrypt(sframe_key, nonce, aad, plaintext)
//
// The CTR+HMAC suites (section 4.5.1) split sframe_key into the AES key
// (first 16 or 32 bytes) and the HMAC key (the rest), encrypt with AES-CTR
// from the block nonce || 0x00000000, and append
// HMAC-H(auth_key, u64_be(len(aad)) || u64_be(len(ct)) || u64_be(Nt) ||
// nonce || aad || ct) truncated to Nt bytes. GCM suites use AES-GCM with a
// 16-byte tag.
//
// RFC 9605 leaves replay protection to the application; Key.Decrypt
// returns the header so that the caller can apply it.
//
// # Parley's media layer
//
// Cipher suite: AES_256_GCM_SHA512_128 (0x0005) unless WithSuite says
// otherwise; every member of a meeting must use the same.
//
// Per-sender keys. For epoch e with meeting key MK_e (32 bytes) and the
// member at position sender_index (0-based) of the epoch's sorted roster:
//
//	base_key = HKDF-SHA256(salt = "", IKM = MK_e,
//	                       info = "parley/v1/sframe" || u32_be(sender_index), L = 32)
//	KID      = sender_index << 8 | (e mod 256)
//
// and the member's sframe_key and sframe_salt come from base_key and KID as
// above. The info label is the 16 ASCII bytes "parley/v1/sframe" without a
// terminator. Every sender has its own key, so counters never collide
// between senders; one device's audio and video share its KID and one
// counter sequence, starting at 0 in each epoch. Keys are per group, not
// per sender: every member of an epoch can derive, and so forge, any other
// member's frames; outsiders can do neither.
//
// Wire format of an encrypted media frame:
//
//	clear_prefix || sframe_header || ciphertext || tag
//
// where clear_prefix is the first P bytes of the encoded frame, copied
// unencrypted; sframe_header is the RFC 9605 header (1–17 bytes) of the
// sender's KID and the frame's CTR; ciphertext is the rest of the frame
// (its length minus P bytes), encrypted; and tag is the AEAD tag (16 bytes
// for 0x0005). The AEAD's associated data is
//
//	aad = sframe_header || clear_prefix
//
// (clear_prefix is the RFC's metadata), so the prefix cannot be altered
// either. P depends on the codec and the frame's first byte:
//
//	VP8:  10 on a key frame, 3 on a delta frame; a key frame is one whose
//	      first byte has bit 0 (the P bit of the VP8 frame tag, mask 0x01)
//	      clear. 10 bytes are the frame tag, start code and dimensions.
//	Opus: 1 (the TOC byte).
//
// A frame shorter than P is sent whole as clear_prefix (P = its length,
// possibly 0) with an empty plaintext, so its encryption is
// frame || sframe_header || tag. A receiver computes P from the codec and
// the first byte; when the bytes do not decrypt that way, it tries every
// shorter P whose header ends exactly where the tag starts, which only a
// frame of at most 10 + 17 + Nt bytes can fit and only the sender's split
// can authenticate. The decrypted frame is clear_prefix || plaintext,
// byte for byte the frame that was encrypted.
//
// The browser (Encoded Transform in a Worker) and Sender/Keyring produce
// and accept exactly these bytes.
//
// Replay. A Keyring keeps for each KID a sliding window of the last
// ReplayWindow counters and drops a counter it has delivered or that is
// ReplayWindow or more behind the newest. The window moves only when a
// frame authenticates, so forged frames cannot push it.
//
// Epochs and erasure. A Keyring holds the current epoch's keys of every
// roster member and, after SetEpoch, the previous epoch's for a grace
// window (DefaultGrace, 2 s); then, on the next Sweep, SetEpoch or Decrypt
// that needs them (or from a timer with WithAutoSweep), it overwrites the
// salts and HMAC keys with zeros and drops the AEADs. Go's crypto/aes keeps
// its expanded key schedule where this package cannot reach it; dropping
// the only reference is the most that can be done for it. A frame of an
// erased or never-received epoch fails with ErrNoKey, one whose sender
// index is outside its epoch's roster with ErrUnknownKID. Time comes from
// WithClock, so tests need not sleep.
package sframe
