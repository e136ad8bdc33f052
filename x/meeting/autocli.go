package meeting

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/parleynet/parley/x/meeting/types"
)

// AutoCLIOptions describes the module's commands. Meeting IDs and keys are
// bytes (hex or base64 on the command line). The transactions need device
// signatures, so `parley meeting ...` is the person-facing way to send them.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	pos := func(fields ...string) []*autocliv1.PositionalArgDescriptor {
		out := make([]*autocliv1.PositionalArgDescriptor, len(fields))
		for i, f := range fields {
			out[i] = &autocliv1.PositionalArgDescriptor{ProtoField: f}
		}
		return out
	}
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Meeting", Use: "meeting [meeting-id]", Short: "Show a meeting", PositionalArgs: pos("meeting_id")},
				{RpcMethod: "JoinRequests", Use: "requests [meeting-id]", Short: "List a meeting's join requests (--status to filter)", PositionalArgs: pos("meeting_id")},
				{RpcMethod: "Epoch", Use: "epoch [meeting-id] [epoch]", Short: "Show an epoch (0 = latest)", PositionalArgs: pos("meeting_id", "epoch")},
				{RpcMethod: "Epochs", Use: "epochs [meeting-id]", Short: "List a meeting's epochs", PositionalArgs: pos("meeting_id")},
				{RpcMethod: "MeetingsByLeader", Use: "by-leader [user-id]", Short: "Open meetings a user leads", PositionalArgs: pos("user_id")},
				{RpcMethod: "MeetingsByUser", Use: "by-user [user-id]", Short: "Open meetings a user is in", PositionalArgs: pos("user_id")},
				{RpcMethod: "RequestLog", Use: "request-log [meeting-id]", Short: "List a meeting's request log (--from-seq, --limit; no proofs: for display)",
					PositionalArgs: pos("meeting_id")},
				{RpcMethod: "Params", Use: "params", Short: "Show the module parameters"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "CreateMeeting", Use: "create [meeting-id] [user-id] [device-id] [eph-pk] [duration-seconds] [sig]",
					Short: "Open a meeting (policy flags; signature made by `parley`)", PositionalArgs: pos("meeting_id", "user_id", "device_id", "eph_pk", "duration_seconds", "sig")},
				{RpcMethod: "RequestJoin", Use: "request-join [meeting-id] [user-id] [device-id] [eph-pk] [sig]",
					Short: "Publish a device's ephemeral key for a meeting", PositionalArgs: pos("meeting_id", "user_id", "device_id", "eph_pk", "sig")},
				{RpcMethod: "CommitEpoch", Use: "commit-epoch [meeting-id] [epoch] [roster-hash] [key-commitment] [sig]",
					Short: "Commit the next epoch (--members as JSON)", PositionalArgs: pos("meeting_id", "epoch", "roster_hash", "key_commitment", "sig")},
				{RpcMethod: "Leave", Use: "leave [meeting-id] [user-id] [device-id] [sig]", Short: "Leave a meeting", PositionalArgs: pos("meeting_id", "user_id", "device_id", "sig")},
				{RpcMethod: "TransferLeadership", Use: "transfer-leadership [meeting-id] [new-leader-user] [new-leader-device] [sig]",
					Short: "Hand leadership to a member", PositionalArgs: pos("meeting_id", "new_leader_user", "new_leader_device", "sig")},
				{RpcMethod: "ClaimLeadership", Use: "claim-leadership [meeting-id] [user-id] [device-id] [eph-pk] [sig]",
					Short: "Take over from a timed-out leader", PositionalArgs: pos("meeting_id", "user_id", "device_id", "eph_pk", "sig")},
				{RpcMethod: "RotateEphKey", Use: "rotate-eph-key [meeting-id] [user-id] [device-id] [eph-pk] [sig]",
					Short: "Replace an admitted device's ephemeral key", PositionalArgs: pos("meeting_id", "user_id", "device_id", "eph_pk", "sig")},
				{RpcMethod: "EndMeeting", Use: "end [meeting-id] [sig]", Short: "End a meeting", PositionalArgs: pos("meeting_id", "sig")},
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
