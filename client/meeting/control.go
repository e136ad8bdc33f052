package meeting

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Control is how `parley meeting admit/remove` reach a running session of
// the same device: small files under <home>/meetings/<id>/control that the
// leader's session reads every block. Only this device's user can write
// there (mode 0700).
type Control struct{ Dir string }

// ControlOf is the control directory of a meeting beside the device's
// ephemeral keys: <eph dir>/<meeting_id_hex>/control.
func ControlOf(eph EphStore, meetingID []byte) Control {
	return Control{Dir: filepath.Join(eph.Dir, hex.EncodeToString(meetingID), "control")}
}

func (c Control) file(kind, user, device string) string {
	return filepath.Join(c.Dir, kind, user+"@"+device)
}

func (c Control) put(kind, user, device string) error {
	p := c.file(kind, user, device)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, nil, 0o600)
}

func (c Control) list(kind string) [][2]string {
	entries, _ := os.ReadDir(filepath.Join(c.Dir, kind))
	var out [][2]string
	for _, e := range entries {
		if u, d, ok := strings.Cut(e.Name(), "@"); ok {
			out = append(out, [2]string{u, d})
		}
	}
	return out
}

// Approve records the leader's manual approval of a device's request. It
// also lifts an earlier removal: letting a removed device back in is this
// explicit decision, never automatic.
func (c Control) Approve(user, device string) error {
	if err := c.put("admit", user, device); err != nil {
		return err
	}
	return c.drop("remove", user, device)
}

func (c Control) drop(kind, user, device string) error {
	err := os.Remove(c.file(kind, user, device))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Approved says whether the device's request was approved.
func (c Control) Approved(user, device string) bool {
	_, err := os.Stat(c.file("admit", user, device))
	return err == nil
}

// RequestRemoval asks the running leader session to remove a member. The
// removal stands for the meeting's life (it also withdraws an approval):
// the device asking again is not admitted until Approve.
func (c Control) RequestRemoval(user, device string) error {
	if err := c.put("remove", user, device); err != nil {
		return err
	}
	return c.drop("admit", user, device)
}

// Removals lists the members the leader was asked to remove.
func (c Control) Removals() [][2]string { return c.list("remove") }

// Removed says whether the device was removed and not approved since.
func (c Control) Removed(user, device string) bool {
	_, err := os.Stat(c.file("remove", user, device))
	return err == nil
}

// Status is what a running session last reported, for `parley meeting status`.
type Status struct {
	Role    string    `json:"role"` // leader or member
	Epoch   uint64    `json:"epoch"`
	Code    string    `json:"security_code"`
	Members []string  `json:"members"`
	Note    string    `json:"note,omitempty"`
	Updated time.Time `json:"updated"`
}

// WriteStatus saves the session's status.
func (c Control) WriteStatus(s Status) error {
	bz, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(c.Dir, "status.json.tmp")
	if err := os.WriteFile(tmp, bz, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.Dir, "status.json"))
}

// ReadStatus reads the last status (false if no session wrote one).
func (c Control) ReadStatus() (Status, bool, error) {
	bz, err := os.ReadFile(filepath.Join(c.Dir, "status.json"))
	if errors.Is(err, os.ErrNotExist) {
		return Status{}, false, nil
	}
	if err != nil {
		return Status{}, false, err
	}
	var s Status
	return s, true, json.Unmarshal(bz, &s)
}
