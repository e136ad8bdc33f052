package chain

import (
	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/std"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"

	"github.com/parleynet/parley/internal/chainparams"
	identitytypes "github.com/parleynet/parley/x/identity/types"
	meetingtypes "github.com/parleynet/parley/x/meeting/types"
)

// Encoding is the codec set a client needs to build and read transactions.
type Encoding struct {
	Registry codectypes.InterfaceRegistry
	Codec    codec.Codec
	TxConfig client.TxConfig
}

// NewEncoding registers the SDK's standard types, bank's, feegrant's, and
// Parley's messages.
func NewEncoding() (Encoding, error) {
	chainparams.SetSDKConfig()
	registry, err := codectypes.NewInterfaceRegistryWithOptions(codectypes.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          address.NewBech32Codec(chainparams.Bech32Prefix),
			ValidatorAddressCodec: address.NewBech32Codec(chainparams.ValoperPrefix),
		},
	})
	if err != nil {
		return Encoding{}, err
	}
	std.RegisterInterfaces(registry)
	authtypes.RegisterInterfaces(registry)
	// Bank sends are the usual way to fund an account; a client that
	// follows one by hash must be able to decode it.
	banktypes.RegisterInterfaces(registry)
	// Organisations grant fees to devices (parley org grant).
	feegrant.RegisterInterfaces(registry)
	identitytypes.RegisterInterfaces(registry)
	meetingtypes.RegisterInterfaces(registry)
	cdc := codec.NewProtoCodec(registry)
	return Encoding{Registry: registry, Codec: cdc, TxConfig: authtx.NewTxConfig(cdc, authtx.DefaultSignModes)}, nil
}
