package keystore

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
)

// infoAccount derives a device's account key from its seed. A distinct
// HKDF info string keeps the account key independent of the device key's
// own use: a signature by one is never a signature by the other.
const infoAccount = "parley/v1/keystore/account-secp256k1"

// AccountKey returns the secp256k1 account key this device pays for
// transactions with:
//
//	account_key = HKDF-SHA256(secret=seed, salt=none, info="parley/v1/keystore/account-secp256k1", 32 bytes)
//
// Deriving it (instead of keeping a second secret in a Cosmos keyring)
// means it is stored nowhere: it is protected by the device key file's
// passphrase, exists while the device key is loaded, and a page's first
// run needs no keyring at all. The account holds no tokens; an
// organisation pays its fees with a fee grant (PROTOCOL.md section 9).
// The caller must not keep it longer than the DeviceKey.
func (k *DeviceKey) AccountKey() (*secp256k1.PrivKey, error) {
	if k == nil || k.secret == nil {
		return nil, ErrClosed
	}
	k.secret.mu.RLock()
	defer k.secret.mu.RUnlock()
	if k.secret.priv == nil {
		return nil, ErrClosed
	}
	bz, err := hkdf.Key(sha256.New, k.secret.priv[:32], nil, infoAccount, 32)
	if err != nil {
		return nil, fmt.Errorf("keystore: account key of %s/%s: %w", k.UserID, k.DeviceID, err)
	}
	// A zero scalar (or one ≥ the group order, which the secp256k1 code
	// reduces) has probability about 2^-128; refuse zero rather than sign
	// with it.
	if allZero(bz) {
		return nil, errors.New("keystore: account key derivation gave zero")
	}
	return &secp256k1.PrivKey{Key: bz}, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
