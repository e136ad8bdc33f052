package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// approvalPrefix marks an approval token so a person pasting the wrong
// string gets a clear error.
const approvalPrefix = "parley-approval-v1:"

// Approval is an existing device's signature that lets a new device join
// its user. It is single-use: it covers the user's seq at signing time.
type Approval struct {
	UserID   string `json:"user_id"`
	Seq      uint64 `json:"seq"`
	DeviceID string `json:"device_id"`
	PubKey   []byte `json:"pubkey"`
	Approver string `json:"approver_device_id"`
	Sig      []byte `json:"sig"`
}

// ErrBadApproval means an approval token could not be read.
var ErrBadApproval = errors.New("malformed approval token")

// Approve signs an approval of the new device (newDeviceID, newPub) by the
// active device approverID of userID, for the user's current seq.
func Approve(ctx context.Context, c Chain, userID, approverID string, approver Signer, newDeviceID string, newPub []byte) (Approval, error) {
	if err := identitytypes.ValidateDeviceID("new device", newDeviceID); err != nil {
		return Approval{}, err
	}
	if err := identitytypes.ValidatePubKey("new device key", newPub); err != nil {
		return Approval{}, err
	}
	u, err := provenUser(ctx, c, userID)
	if err != nil {
		return Approval{}, err
	}
	seq := u.Seq
	return Approval{
		UserID: userID, Seq: seq, DeviceID: newDeviceID, PubKey: newPub, Approver: approverID,
		Sig: approver.SignMessage(identitytypes.ApproveSignBytes(c.ChainID(), userID, seq, newDeviceID, newPub, approverID)),
	}, nil
}

// Encode returns the approval as a single copyable token.
func (a Approval) Encode() string {
	bz, _ := json.Marshal(a)
	return approvalPrefix + base64.RawURLEncoding.EncodeToString(bz)
}

// DecodeApproval reads a token made by Encode.
func DecodeApproval(token string) (Approval, error) {
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, approvalPrefix) {
		return Approval{}, fmt.Errorf("%w: it should start with %q", ErrBadApproval, approvalPrefix)
	}
	bz, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, approvalPrefix))
	if err != nil {
		return Approval{}, fmt.Errorf("%w: %v", ErrBadApproval, err)
	}
	var a Approval
	dec := json.NewDecoder(strings.NewReader(string(bz)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Approval{}, fmt.Errorf("%w: %v", ErrBadApproval, err)
	}
	if a.UserID == "" || a.DeviceID == "" || a.Approver == "" || len(a.PubKey) == 0 || len(a.Sig) == 0 {
		return Approval{}, fmt.Errorf("%w: missing fields", ErrBadApproval)
	}
	return a, nil
}
