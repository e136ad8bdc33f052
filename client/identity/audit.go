package identity

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// KnownDevice is a device this person created or approved on one of their
// own devices.
type KnownDevice struct {
	DeviceID string `json:"device_id"`
	PubKey   string `json:"pubkey"` // hex
	How      string `json:"how"`    // created, approved, added, reset
}

// Known is the per-user list of devices this person knows, kept in
// <dir>/<user_id>.json. The audit compares the chain against it.
type Known struct{ dir string }

// NewKnown opens the known-devices directory.
func NewKnown(dir string) Known { return Known{dir: dir} }

func (k Known) path(userID string) string { return filepath.Join(k.dir, userID+".json") }

// List returns the known devices of userID (none if never recorded).
func (k Known) List(userID string) ([]KnownDevice, error) {
	bz, err := os.ReadFile(k.path(userID))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []KnownDevice
	if err := json.Unmarshal(bz, &out); err != nil {
		return nil, fmt.Errorf("known devices file %s: %w", k.path(userID), err)
	}
	return out, nil
}

// Add records a device as known (idempotent).
func (k Known) Add(userID, deviceID string, pub []byte, how string) error {
	list, err := k.List(userID)
	if err != nil {
		return err
	}
	h := hex.EncodeToString(pub)
	for _, d := range list {
		if d.DeviceID == deviceID && d.PubKey == h {
			return nil
		}
	}
	list = append(list, KnownDevice{DeviceID: deviceID, PubKey: h, How: how})
	sort.Slice(list, func(i, j int) bool { return list[i].DeviceID < list[j].DeviceID })
	bz, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return err
	}
	tmp := k.path(userID) + ".tmp"
	if err := os.WriteFile(tmp, append(bz, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, k.path(userID))
}

// Finding is one discrepancy the audit found.
type Finding struct {
	DeviceID string
	PubKey   []byte
	Height   int64
	AddedBy  string
	Problem  string
}

func (f Finding) String() string {
	return fmt.Sprintf("device %s (key %x, added at height %d by %q): %s", f.DeviceID, f.PubKey, f.Height, f.AddedBy, f.Problem)
}

// AuditReport is the result of comparing a user's chain record with the
// devices this person knows.
type AuditReport struct {
	UserID     string
	Active     []identitytypes.Device
	ResetCount uint32
	Findings   []Finding
}

// OK says whether every active on-chain device is known.
func (r AuditReport) OK() bool { return len(r.Findings) == 0 }

// Audit compares userID's active on-chain devices (a proven list: the
// user's history, bounded by its seq, and each device it names) with the
// known list. An
// active device that no device of this person created or approved, or a
// known device ID whose on-chain key differs, is a finding.
func Audit(ctx context.Context, c Chain, userID string, known []KnownDevice) (AuditReport, error) {
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		return AuditReport{}, err
	}
	u, _, devs, err := snap.Devices(ctx, userID)
	if err != nil {
		return AuditReport{}, fmt.Errorf("devices of %s: %w", userID, err)
	}
	rep := AuditReport{UserID: userID, ResetCount: u.ResetCount}
	for _, d := range devs {
		if d.RevokedHeight == 0 {
			rep.Active = append(rep.Active, d)
		}
	}
	for _, d := range rep.Active {
		var match, sameID bool
		for _, kd := range known {
			if kd.DeviceID != d.DeviceId {
				continue
			}
			sameID = true
			if pk, err := hex.DecodeString(kd.PubKey); err == nil && bytes.Equal(pk, d.Pubkey) {
				match = true
			}
		}
		switch {
		case match:
		case sameID:
			rep.Findings = append(rep.Findings, Finding{d.DeviceId, d.Pubkey, d.AddedHeight, d.AddedBy, "on-chain key differs from the key this person knows"})
		default:
			rep.Findings = append(rep.Findings, Finding{d.DeviceId, d.Pubkey, d.AddedHeight, d.AddedBy, "UNKNOWN: no device of this person created or approved it"})
		}
	}
	return rep, nil
}
