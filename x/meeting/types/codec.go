package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterLegacyAminoCodec registers the messages for amino JSON signing.
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgCreateMeeting{}, "parley/meeting/MsgCreateMeeting", nil)
	cdc.RegisterConcrete(&MsgRequestJoin{}, "parley/meeting/MsgRequestJoin", nil)
	cdc.RegisterConcrete(&MsgCommitEpoch{}, "parley/meeting/MsgCommitEpoch", nil)
	cdc.RegisterConcrete(&MsgLeave{}, "parley/meeting/MsgLeave", nil)
	cdc.RegisterConcrete(&MsgTransferLeadership{}, "parley/meeting/MsgTransferLeadership", nil)
	cdc.RegisterConcrete(&MsgClaimLeadership{}, "parley/meeting/MsgClaimLeadership", nil)
	cdc.RegisterConcrete(&MsgRotateEphKey{}, "parley/meeting/MsgRotateEphKey", nil)
	cdc.RegisterConcrete(&MsgEndMeeting{}, "parley/meeting/MsgEndMeeting", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "parley/meeting/MsgUpdateParams", nil)
}

// RegisterInterfaces registers the messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgCreateMeeting{}, &MsgRequestJoin{}, &MsgCommitEpoch{}, &MsgLeave{},
		&MsgTransferLeadership{}, &MsgClaimLeadership{}, &MsgRotateEphKey{}, &MsgEndMeeting{}, &MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
