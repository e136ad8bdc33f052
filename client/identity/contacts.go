package identity

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Contacts remembers the device keys of the people this device has met in
// meetings, per user, in <dir>/<user_id>.json (mode 0600), so that the
// client can warn when someone it met before shows up with a device it has
// not seen, as messengers warn about a changed safety number: the chain
// proves the new key is that user's, but not that the person added it
// (an account reset lets the owner account alone replace a user's
// devices).
type Contacts struct{ dir string }

// NewContacts opens the contacts directory.
func NewContacts(dir string) Contacts { return Contacts{dir: dir} }

// SeenDevice is one device of a user as a verified epoch shows it.
type SeenDevice struct {
	DeviceID string
	PubKey   []byte
	// Reset: the device came with an account reset (no earlier device of
	// the user approved it).
	Reset bool
}

// KeyChange is a device of a user met before that this device has not
// seen until now.
type KeyChange struct {
	User, Device string
	PubKey       []byte
	Reset        bool
	LastMet      time.Time // when this user was last met with other devices
}

func (k KeyChange) String() string {
	how := "a new device"
	if k.Reset {
		how = "a new device added by an ACCOUNT RESET (no earlier device of theirs approved it)"
	}
	return fmt.Sprintf("%s appears with %s, %s (key %x…), since you last met them (%s): confirm with them that it is theirs",
		k.User, how, k.Device, k.PubKey[:8], k.LastMet.Format("2006-01-02 15:04"))
}

type contactFile struct {
	LastMet time.Time       `json:"last_met"`
	Devices []contactDevice `json:"devices"`
}

type contactDevice struct {
	DeviceID  string    `json:"device_id"`
	PubKey    string    `json:"pubkey"` // hex
	FirstSeen time.Time `json:"first_seen"`
	Reset     bool      `json:"reset,omitempty"`
}

// Meet records that user was seen with devices now and returns the
// devices that are new for a user met before (none the first time: there
// is nothing to compare with).
func (c Contacts) Meet(user string, devices []SeenDevice, now time.Time) ([]KeyChange, error) {
	p := filepath.Join(c.dir, user+".json")
	var f contactFile
	first := false
	bz, err := os.ReadFile(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		first = true
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(bz, &f); err != nil {
			return nil, fmt.Errorf("contacts file %s: %w", p, err)
		}
	}
	known := map[string]string{}
	for _, d := range f.Devices {
		known[d.DeviceID] = d.PubKey
	}
	var changes []KeyChange
	changed := first
	for _, d := range devices {
		h := hex.EncodeToString(d.PubKey)
		if known[d.DeviceID] == h {
			continue
		}
		changed = true
		if !first {
			changes = append(changes, KeyChange{User: user, Device: d.DeviceID, PubKey: d.PubKey, Reset: d.Reset, LastMet: f.LastMet})
		}
		f.Devices = append(f.Devices, contactDevice{DeviceID: d.DeviceID, PubKey: h, FirstSeen: now, Reset: d.Reset})
	}
	if now.Sub(f.LastMet) > time.Hour {
		changed = true
	}
	if !changed {
		return changes, nil
	}
	f.LastMet = now
	sort.Slice(f.Devices, func(i, j int) bool { return f.Devices[i].DeviceID < f.Devices[j].DeviceID })
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), 0o600); err != nil {
		return nil, err
	}
	return changes, os.Rename(tmp, p)
}
