package webui

import "encoding/json"

// Messages between the page and the client travel over the WebSocket as
// JSON objects with a "type" field. docs/PROTOCOL.md section 8 lists them.

// inbound is any message from the page; only the fields its type uses
// are set.
type inbound struct {
	Type string `json:"type"`
	// signin
	User       string `json:"user,omitempty"`
	Device     string `json:"device,omitempty"`
	Passphrase string `json:"passphrase,omitempty"`
	// create; StartsAt (Unix seconds, 0: now) and Minutes (0: the
	// default two hours) schedule the meeting
	AdmitAll bool  `json:"admitAll,omitempty"`
	StartsAt int64 `json:"startsAt,omitempty"`
	Minutes  int   `json:"minutes,omitempty"`
	// create, join: the meeting's passcode (create: required of joiners;
	// join: proven to the leader, sealed to its ephemeral key)
	Passcode string `json:"passcode,omitempty"`
	// join
	Invite string `json:"invite,omitempty"`
	// offer: the page's SDP and the mids of its receive slots, in slot order
	SDP   string   `json:"sdp,omitempty"`
	Video []string `json:"video,omitempty"`
	Audio []string `json:"audio,omitempty"`
	// Screen: the mids of the screen receive slots, in slot order, and
	// ScreenSend the mid of the page's own screen-share transceiver.
	Screen     []string `json:"screen,omitempty"`
	ScreenSend string   `json:"screenSend,omitempty"`
	// admit, remove: User and Device
	// chat: Text; name: Text (the display name); hand: Raised; react: Reaction
	Text     string `json:"text,omitempty"`
	Raised   bool   `json:"raised,omitempty"`
	Reaction string `json:"reaction,omitempty"`
}

// authMsg is the page's first message on every WebSocket: it proves the
// page secret (auth.go) and says whether to attach.
type authMsg struct {
	Type   string     `json:"type"`   // "auth"
	Secret string     `json:"secret"` // 64 hex digits
	Mode   attachMode `json:"mode"`
}

// attachMode is what a page that proved the secret asks for.
type attachMode string

const (
	// modeResume: this tab opened the link or was the page before it
	// reloaded; attach unless another live page is attached.
	modeResume attachMode = "resume"
	// modeAsk: a tab that has not been the page; never attach, only say
	// whether another tab is the page (closeBusy or closeFree).
	modeAsk attachMode = "ask"
	// modeTake: the person chose this tab; attach, closing the live page
	// with closeReplaced.
	modeTake attachMode = "take"
)

// Close codes the client ends a page's WebSocket with (RFC 6455 leaves
// 4000-4999 to applications); the close reason says the same in words.
// The page retries on no other code than the ones of a lost connection.
const (
	closeBadAuth   = 4000 // the first message was not an auth message, or came late
	closeReplaced  = 4001 // another tab took over (modeTake)
	closeBusy      = 4002 // another tab is the page (modeResume, modeAsk)
	closeBadSecret = 4003 // no page secret, or not this client's
	closeFree      = 4004 // modeAsk: no tab is the page
)

// stateMsg tells the page where it is.
type stateMsg struct {
	Type    string       `json:"type"`  // "state"
	Phase   string       `json:"phase"` // phase.String()
	ChainID string       `json:"chainId"`
	Devices []deviceInfo `json:"devices,omitempty"` // signin: the keys in the keystore
	Self    *memberInfo  `json:"self,omitempty"`
	Meeting string       `json:"meeting,omitempty"` // hex ID
	Invite  string       `json:"invite,omitempty"`
	// InviteICS is the leader's signed invite as an .ics file, for the
	// page to offer as a download (invitelink.go).
	InviteICS string `json:"inviteIcs,omitempty"`
	Leader    bool   `json:"leader"`
	Reason    string `json:"reason,omitempty"` // over: why
}

type deviceInfo struct {
	User      string `json:"user"`
	Device    string `json:"device"`
	Encrypted bool   `json:"encrypted"`
	// RemovedEarlier marks a pending request of a device the leader
	// removed: only an explicit admit lets it back in.
	RemovedEarlier bool `json:"removedEarlier,omitempty"`
	// WrongPasscode marks a pending request the session refused for its
	// passcode: the host is not asked about it. Requests the session has
	// not checked yet are not listed.
	WrongPasscode bool `json:"wrongPasscode,omitempty"`
}

// memberInfo is one member of an epoch, as the page shows it.
type memberInfo struct {
	User     string `json:"user"`
	Device   string `json:"device"`
	Self     bool   `json:"self"`
	Leader   bool   `json:"leader"`
	Verified bool   `json:"verified"`          // device active on chain with the key the roster uses
	Problem  string `json:"problem,omitempty"` // why not verified
	KID      uint64 `json:"kid"`
	Key      []byte `json:"key,omitempty"`  // sframe_key (base64 in JSON)
	Salt     []byte `json:"salt,omitempty"` // sframe_salt
}

// epochMsg gives the page an epoch: the SFrame keys of every member and
// who is where.
type epochMsg struct {
	Type    string `json:"type"` // "epoch"
	Epoch   uint64 `json:"epoch"`
	Code    string `json:"code"`
	Suite   uint16 `json:"suite"`
	SelfKID uint64 `json:"selfKid"`
	// CtrBase is the first SFrame counter this page may use under SelfKID:
	// every page instance gets its own block, so that no counter, and so
	// no nonce, is used twice under one key.
	CtrBase uint64       `json:"ctrBase"`
	GraceMS int64        `json:"graceMs"`
	Members []memberInfo `json:"members"`
	// Hold: keep sealing under the current key until a "send" message for
	// this epoch (the key transition); a page without one uses this one.
	Hold bool `json:"hold"`
}

// sendEpochMsg tells the page to seal its frames under an epoch's key
// from now on: every member holds it, or the key transition ran out.
type sendEpochMsg struct {
	Type  string `json:"type"` // "send"
	Epoch uint64 `json:"epoch"`
}

// meetingMsg is the chain's view of the meeting, sent every second while
// in one.
type meetingMsg struct {
	Type   string `json:"type"` // "meeting"
	Height int64  `json:"height"`
	Leader string `json:"leader"` // user/device
	// StartsAt is a scheduled meeting's start (Unix seconds, 0: none),
	// as the node says (shown, never acted on).
	StartsAt int64        `json:"startsAt,omitempty"`
	Pending  []deviceInfo `json:"pending"`
	Peers    []peerInfo   `json:"peers"`
	Rejects  int64        `json:"rejects"` // page frames the client refused to send
}

// peerInfo is the client's connection with one member.
type peerInfo struct {
	Member    string `json:"member"`
	State     string `json:"state"`
	Epoch     uint64 `json:"epoch"`
	Decrypted uint64 `json:"decrypted"`
	Rejected  uint64 `json:"rejected"`
}

// noticeMsg is a message for the person: level "info", "warn" or "error".
// Key, when set, names a condition: a later notice with the same key and
// empty Text clears it.
type noticeMsg struct {
	Type  string `json:"type"` // "notice"
	Level string `json:"level"`
	Key   string `json:"key,omitempty"`
	Text  string `json:"text"`
}

type answerMsg struct {
	Type string `json:"type"` // "answer"
	SDP  string `json:"sdp"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own structs, which always marshal
	}
	return b
}
