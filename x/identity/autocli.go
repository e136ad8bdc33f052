package identity

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/parleynet/parley/x/identity/types"
)

// AutoCLIOptions describes the module's tx and query commands. The
// transactions need device signatures, so `parley identity ...` is the
// person-facing way to send them; these commands are for scripts that
// bring their own signatures (hex or base64 bytes).
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "User", Use: "user [user-id]", Short: "Show a user",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "user_id"}}},
				{RpcMethod: "Devices", Use: "devices [user-id]", Short: "List a user's active devices (--include-revoked for all)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "user_id"}}},
				{RpcMethod: "Device", Use: "device [user-id] [device-id]", Short: "Show one device",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "user_id"}, {ProtoField: "device_id"}}},
				{RpcMethod: "History", Use: "history [user-id]", Short: "Show a user's device history",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "user_id"}}},
				{RpcMethod: "UsersByOwner", Use: "users-by-owner [owner]", Short: "List the users an account owns",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "owner"}}},
				{RpcMethod: "Params", Use: "params", Short: "Show the module parameters"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "RegisterUser", Use: "register-user [user-id] [device-id] [pubkey] [pop-sig]",
					Short: "Register a user with its first device (signatures made by `parley`)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "user_id"}, {ProtoField: "device_id"}, {ProtoField: "pubkey"}, {ProtoField: "pop_sig"}}},
				{RpcMethod: "AddDevice", Use: "add-device [user-id] [device-id] [pubkey] [pop-sig] [approver-device-id] [approver-sig]",
					Short: "Add a device approved by an existing device",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "user_id"}, {ProtoField: "device_id"}, {ProtoField: "pubkey"}, {ProtoField: "pop_sig"},
						{ProtoField: "approver_device_id"}, {ProtoField: "approver_sig"}}},
				{RpcMethod: "RevokeDevice", Use: "revoke-device [user-id] [device-id] [signer-device-id] [sig]",
					Short: "Revoke a device, signed by an active device",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "user_id"}, {ProtoField: "device_id"}, {ProtoField: "signer_device_id"}, {ProtoField: "sig"}}},
				{RpcMethod: "ResetUser", Use: "reset-user [user-id] [device-id] [pubkey] [pop-sig]",
					Short: "Owner recovery: revoke every device and add one",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "user_id"}, {ProtoField: "device_id"}, {ProtoField: "pubkey"}, {ProtoField: "pop_sig"}}},
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
