package meeting

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// KindNotice is the mailbox kind of a leader's notice to a requester.
const KindNotice = mailboxv1.KindNotice

// ErrWrongPasscode ends a joiner's session whose request the leader
// refused for its passcode proof: only a new request can fix it.
var ErrWrongPasscode = errors.New("the leader refused the request: wrong passcode")

// A notice's body is
//
//	u8(1) ‖ u64(request_seq) ‖ u64(reason) ‖ signature[64]
//
// where the signature is the leader device's, over
// meetingtypes.NoticeSignBytes for the recipient's own identity and
// ephemeral key, which the recipient supplies itself.
const noticeSize = 1 + 8 + 8 + ed25519.SignatureSize

func encodeNotice(seq uint64, reason meetingtypes.NoticeReason, sig []byte) []byte {
	b := make([]byte, 0, noticeSize)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint64(b, uint64(reason))
	return append(b, sig...)
}

func decodeNotice(b []byte) (seq uint64, reason meetingtypes.NoticeReason, sig []byte, err error) {
	if len(b) != noticeSize || b[0] != 1 {
		return 0, 0, nil, fmt.Errorf("notice: want %d bytes starting with version 1, got %d", noticeSize, len(b))
	}
	return binary.BigEndian.Uint64(b[1:9]), meetingtypes.NoticeReason(binary.BigEndian.Uint64(b[9:17])), b[17:], nil
}

// noticeResend is how often a notice goes again while its request stays
// open: the first may have arrived before the requester knew whom to
// expect it from, or been lost.
const noticeResend = 10 * time.Second

// notify sends the requester of r a signed notice, again every
// noticeResend while the request stays open.
func (s *Session) notify(ctx context.Context, ls *leaderState, r meetingtypes.JoinRequest, reason meetingtypes.NoticeReason) {
	ref := DeviceRef{User: r.UserId, Device: r.DeviceId}
	key := noticeKey{ref, r.Seq, reason}
	if at, ok := ls.noticed[key]; ok && time.Since(at) < noticeResend {
		return
	}
	ls.noticed[key] = time.Now()
	toHash := keyschedule.EphemeralKeyHash(r.EphPk)
	sig := s.cfg.Device.Key.SignMessage(meetingtypes.NoticeSignBytes(s.cfg.Chain.ChainID(), s.cfg.MeetingID,
		s.cfg.Device.UserID, s.cfg.Device.DeviceID, r.UserId, r.DeviceId, toHash[:], r.Seq, reason))
	if err := s.cfg.Mailbox.Post(ctx, toHash, s.cfg.MeetingID, KindNotice, encodeNotice(r.Seq, reason, sig)); err != nil {
		s.cfg.OnEvent(EventProblem{Peer: ref.String(), Err: fmt.Errorf("telling it why it is not admitted: %w", err)})
	}
}

type noticeKey struct {
	ref    DeviceRef
	seq    uint64
	reason meetingtypes.NoticeReason
}

// noticeSigned reports whether a delivered notice carries pub's signature
// for this device, under one of its ephemeral keys. s.mu must be held.
func (s *Session) noticeSigned(d Delivery, pub ed25519.PublicKey) bool {
	seq, reason, sig, err := decodeNotice(d.Body)
	return err == nil && s.signedNotice(d, pub, s.ephKeysLocked(), seq, reason, sig)
}

// signedNotice reports whether sig is pub's over the notice (seq, reason)
// from d's sender to this device under one of keys.
func (s *Session) signedNotice(d Delivery, pub ed25519.PublicKey, keys []hpke.PrivateKey, seq uint64, reason meetingtypes.NoticeReason, sig []byte) bool {
	for _, k := range keys {
		hash := keyschedule.EphemeralKeyHash(k.PublicKey().Bytes())
		if ed25519.Verify(pub, meetingtypes.NoticeSignBytes(s.cfg.Chain.ChainID(), s.cfg.MeetingID,
			d.FromUser, d.FromDevice, s.cfg.Device.UserID, s.cfg.Device.DeviceID, hash[:], seq, reason), sig) {
			return true
		}
	}
	return false
}

// takeNotice checks a notice delivered to this device: from the proven
// leader, signed with its proven key, about this device's own current
// request (seq and key). It returns the reason, or an error.
func (s *Session) takeNotice(ctx context.Context, snap *verify.Snapshot, m meetingtypes.Meeting, d Delivery) (meetingtypes.NoticeReason, error) {
	seq, reason, sig, err := decodeNotice(d.Body)
	if err != nil {
		return 0, err
	}
	if d.FromUser != m.LeaderUser || d.FromDevice != m.LeaderDevice {
		return 0, fmt.Errorf("a notice from %s/%s, who does not lead the meeting", d.FromUser, d.FromDevice)
	}
	leader, err := snap.Device(ctx, m.LeaderUser, m.LeaderDevice)
	if err != nil {
		return 0, err
	}
	if leader.RevokedHeight != 0 {
		return 0, fmt.Errorf("a notice from %s/%s, a revoked device", m.LeaderUser, m.LeaderDevice)
	}
	own, err := snap.Request(ctx, s.cfg.MeetingID, s.cfg.Device.UserID, s.cfg.Device.DeviceID)
	if err != nil {
		return 0, err
	}
	if seq != own.Seq {
		return 0, fmt.Errorf("a notice about request %d; this device's request is %d", seq, own.Seq)
	}
	if !s.signedNotice(d, leader.Pubkey, s.EphemeralKeys(), seq, reason, sig) {
		return 0, fmt.Errorf("a notice not signed by the leader's device key")
	}
	return reason, nil
}
