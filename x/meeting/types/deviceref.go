package types

import identitytypes "github.com/parleynet/parley/x/identity/types"

// The device each record or message names.

// Ref returns the device the request is from.
func (m *JoinRequest) Ref() identitytypes.DeviceRef {
	return identitytypes.DeviceRef{User: m.UserId, Device: m.DeviceId}
}

// Ref returns the member's device.
func (m *Member) Ref() identitytypes.DeviceRef {
	return identitytypes.DeviceRef{User: m.UserId, Device: m.DeviceId}
}

// Ref returns the listed device.
func (m *MemberRef) Ref() identitytypes.DeviceRef {
	return identitytypes.DeviceRef{User: m.UserId, Device: m.DeviceId}
}

// Ref returns the device that asks to join.
func (m *MsgRequestJoin) Ref() identitytypes.DeviceRef {
	return identitytypes.DeviceRef{User: m.UserId, Device: m.DeviceId}
}

// Ref returns the device that claims the lead.
func (m *MsgClaimLeadership) Ref() identitytypes.DeviceRef {
	return identitytypes.DeviceRef{User: m.UserId, Device: m.DeviceId}
}

// Ref returns the device whose ephemeral key rotates.
func (m *MsgRotateEphKey) Ref() identitytypes.DeviceRef {
	return identitytypes.DeviceRef{User: m.UserId, Device: m.DeviceId}
}

// Ref returns the device that leaves.
func (m *MsgLeave) Ref() identitytypes.DeviceRef {
	return identitytypes.DeviceRef{User: m.UserId, Device: m.DeviceId}
}

// Ref returns the device that creates the meeting (its first leader).
func (m *MsgCreateMeeting) Ref() identitytypes.DeviceRef {
	return identitytypes.DeviceRef{User: m.UserId, Device: m.DeviceId}
}
