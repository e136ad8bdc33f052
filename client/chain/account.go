package chain

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// memoryAccount is the name of the in-memory keyring entry that holds
// Config.AccountKey.
const memoryAccount = "device-account"

// openKeyring returns the keyring that signs for cfg and the paying
// account's record in it: the Cosmos keyring on disk for cfg.From, or a
// keyring in memory holding only cfg.AccountKey, which therefore never
// touches the disk.
func openKeyring(cfg Config, enc Encoding) (keyring.Keyring, *keyring.Record, error) {
	if cfg.From != "" && cfg.AccountKey != nil {
		return nil, nil, errors.New("chain: both a keyring account (--from) and a device account key are set; use one")
	}
	if cfg.AccountKey != nil {
		kr := keyring.NewInMemory(enc.Codec)
		if err := kr.ImportPrivKeyHex(memoryAccount, hex.EncodeToString(cfg.AccountKey.Bytes()), string(hd.Secp256k1Type)); err != nil {
			return nil, nil, fmt.Errorf("chain: device account key: %w", err)
		}
		rec, err := kr.Key(memoryAccount)
		return kr, rec, err
	}
	backend := cfg.KeyringBackend
	if backend == "" {
		backend = keyring.BackendOS
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), backend, cfg.KeyringDir, os.Stdin, enc.Codec)
	if err != nil {
		return nil, nil, fmt.Errorf("chain: keyring (%s in %s): %w", backend, cfg.KeyringDir, err)
	}
	rec, err := kr.Key(cfg.From)
	if err != nil {
		return nil, nil, fmt.Errorf("chain: account %q not in the %s keyring at %s: %w", cfg.From, backend, cfg.KeyringDir, err)
	}
	return kr, rec, nil
}

// FeeGranter returns the bech32 address that pays this client's fees
// through a fee grant ("" if the account pays its own).
func (c *Client) FeeGranter() string {
	if c.granter == nil {
		return ""
	}
	return c.granter.String()
}
