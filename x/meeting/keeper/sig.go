package keeper

import (
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// verifySig checks an Ed25519 device signature carried in the field "sig".
func verifySig(pubkey, signBytes, sig []byte) error {
	return identitytypes.VerifySignature("sig", pubkey, signBytes, sig)
}
