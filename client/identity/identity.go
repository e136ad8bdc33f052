package identity

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/client/verify"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// Chain is what this package needs of a node.
type Chain interface {
	ChainID() string
	// Account is the bech32 address of the paying (owner) account.
	Account() string
	// Reader reads the chain's state with proofs (client/verify).
	Reader() *verify.Reader
	Broadcast(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error)
}

// Signer is a device key (client/keystore's DeviceKey). SignMessage
// returns the pure Ed25519 signature of msg, nil if the key cannot sign.
type Signer interface {
	SignMessage(msg []byte) []byte
	PublicKey() ed25519.PublicKey
}

// ErrNoAccount means a transaction needs a paying account and none is set.
var ErrNoAccount = errors.New("no paying account: set --from")

// Register claims userID for the chain's paying account with key as the
// first device deviceID.
func Register(ctx context.Context, c Chain, userID, deviceID string, key Signer) (*sdk.TxResponse, error) {
	owner := c.Account()
	if owner == "" {
		return nil, ErrNoAccount
	}
	pub := key.PublicKey()
	msg := &identitytypes.MsgRegisterUser{
		Owner: owner, UserId: userID, DeviceId: deviceID, Pubkey: pub,
		PopSig: key.SignMessage(identitytypes.RegisterSignBytes(c.ChainID(), owner, userID, deviceID, pub)),
	}
	return c.Broadcast(ctx, msg)
}

// AddDevice sends an approval made by an existing device, signed for
// possession by the new device's key.
func AddDevice(ctx context.Context, c Chain, a Approval, key Signer) (*sdk.TxResponse, error) {
	owner := c.Account()
	if owner == "" {
		return nil, ErrNoAccount
	}
	if !key.PublicKey().Equal(ed25519.PublicKey(a.PubKey)) {
		return nil, fmt.Errorf("the approval is for key %x, not this device's key %x", a.PubKey, []byte(key.PublicKey()))
	}
	msg := &identitytypes.MsgAddDevice{
		Owner: owner, UserId: a.UserID, DeviceId: a.DeviceID, Pubkey: a.PubKey,
		PopSig:           key.SignMessage(identitytypes.AddDevicePoPSignBytes(c.ChainID(), owner, a.UserID, a.Seq, a.DeviceID, a.PubKey)),
		ApproverDeviceId: a.Approver, ApproverSig: a.Sig,
	}
	return c.Broadcast(ctx, msg)
}

// Revoke revokes deviceID of userID, signed by the active device signerID.
func Revoke(ctx context.Context, c Chain, userID, deviceID, signerID string, signer Signer) (*sdk.TxResponse, error) {
	owner := c.Account()
	if owner == "" {
		return nil, ErrNoAccount
	}
	u, err := provenUser(ctx, c, userID)
	if err != nil {
		return nil, err
	}
	msg := &identitytypes.MsgRevokeDevice{
		Owner: owner, UserId: userID, DeviceId: deviceID, SignerDeviceId: signerID,
		Sig: signer.SignMessage(identitytypes.RevokeSignBytes(c.ChainID(), userID, u.Seq, deviceID, signerID)),
	}
	return c.Broadcast(ctx, msg)
}

// Reset revokes every device of userID and adds key as deviceID. Only the
// owning account may; every other device of the user is lost.
func Reset(ctx context.Context, c Chain, userID, deviceID string, key Signer) (*sdk.TxResponse, error) {
	owner := c.Account()
	if owner == "" {
		return nil, ErrNoAccount
	}
	u, err := provenUser(ctx, c, userID)
	if err != nil {
		return nil, err
	}
	pub := key.PublicKey()
	msg := &identitytypes.MsgResetUser{
		Owner: owner, UserId: userID, DeviceId: deviceID, Pubkey: pub,
		PopSig: key.SignMessage(identitytypes.ResetSignBytes(c.ChainID(), owner, userID, u.Seq, deviceID, pub)),
	}
	return c.Broadcast(ctx, msg)
}

// provenUser reads a user record with a proof (its seq goes into the
// device signatures).
func provenUser(ctx context.Context, c Chain, userID string) (identitytypes.User, error) {
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return identitytypes.User{}, err
	}
	u, err := snap.User(ctx, userID)
	if err != nil {
		return u, fmt.Errorf("user %s: %w", userID, err)
	}
	return u, nil
}
