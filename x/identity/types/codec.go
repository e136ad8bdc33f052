package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterLegacyAminoCodec registers the messages for amino JSON signing.
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgRegisterUser{}, "parley/identity/MsgRegisterUser", nil)
	cdc.RegisterConcrete(&MsgAddDevice{}, "parley/identity/MsgAddDevice", nil)
	cdc.RegisterConcrete(&MsgRevokeDevice{}, "parley/identity/MsgRevokeDevice", nil)
	cdc.RegisterConcrete(&MsgResetUser{}, "parley/identity/MsgResetUser", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "parley/identity/MsgUpdateParams", nil)
}

// RegisterInterfaces registers the messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgRegisterUser{},
		&MsgAddDevice{},
		&MsgRevokeDevice{},
		&MsgResetUser{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
