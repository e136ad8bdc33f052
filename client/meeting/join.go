package meeting

import (
	"context"
	"errors"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/verify"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Errors of asking to join.
var (
	ErrNoMeeting      = errors.New("no such meeting")
	ErrMeetingOver    = errors.New("the meeting has ended")
	ErrPasscodeNeeded = errors.New("the meeting needs a passcode")
	// ErrTransfer: a leadership transfer this device cannot make (it does
	// not lead, or names itself); the chain's own refusals (the new leader
	// is not in the current epoch, or its device is revoked) come back as
	// chain.ErrTxFailed with the chain's reason.
	ErrTransfer = errors.New("cannot transfer the leadership")
)

// Join asks to join meeting id as d. It reads the meeting with a proof
// (that it exists and is open, whether it needs a passcode, and the
// leader's ephemeral key), seals the passcode proof to that key (so
// neither chain observers nor a lying node can test guesses), and sends
// the request with a fresh ephemeral key of d.
func Join(ctx context.Context, c Chain, eph EphStore, d Device, id []byte, passcode string) (*sdk.TxResponse, error) {
	m, err := provenMeeting(ctx, c, id)
	switch {
	case errors.Is(err, verify.ErrNotFound):
		return nil, fmt.Errorf("%w: no meeting %x on chain %s (the chain proves it; check the invite)", ErrNoMeeting, id, c.ChainID())
	case err != nil:
		return nil, err
	case m.Status != meetingtypes.Status_STATUS_OPEN:
		return nil, fmt.Errorf("%w: meeting %x", ErrMeetingOver, id)
	case m.Policy.PasscodeRequired && passcode == "":
		return nil, fmt.Errorf("%w: enter the one its host gave you (meeting %x)", ErrPasscodeNeeded, id)
	}
	var sealed []byte
	if m.Policy.PasscodeRequired {
		if sealed, err = SealPasscode(c.ChainID(), id, d.UserID, d.DeviceID, passcode, m.LeaderEphPk); err != nil {
			return nil, fmt.Errorf("seal the passcode proof: %w", err)
		}
	}
	return request(ctx, c, eph, d, m, sealed)
}
