package cascadev1

// ChannelID is the CometBFT p2p channel of the media relays' cascade.
// CometBFT v0.40 uses 0x00 (PEX), 0x20-0x23 (consensus), 0x30 (mempool),
// 0x38 (evidence), 0x40 (blocksync) and 0x60-0x61 (state sync); the
// mailbox gossips on 0x70 (api/mailbox/v1).
const ChannelID byte = 0x71

// Bounds of a Message. A relay drops a message outside them unread.
const (
	// MaxMeetingIDSize bounds Announce.meeting_id and Signal.meeting_id,
	// as the relay bounds a Join's.
	MaxMeetingIDSize = 256
	// MaxSDPSize bounds Signal.sdp: a push link carries at most a few
	// hundred m-lines (node/sfu's bridge limits).
	MaxSDPSize = 384 << 10
	// MaxMessageSize bounds the protobuf encoding of a Message: the
	// largest Signal and its tags, with room to spare.
	MaxMessageSize = MaxSDPSize + MaxMeetingIDSize + 64
)
