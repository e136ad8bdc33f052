package identity

import (
	"strings"
	"testing"
	"time"
)

func TestContactsWarnOnNewDevices(t *testing.T) {
	c := NewContacts(t.TempDir())
	now := time.Unix(1_800_000_000, 0)
	k1, k2, k3 := []byte(strings.Repeat("a", 32)), []byte(strings.Repeat("b", 32)), []byte(strings.Repeat("c", 32))
	ch, err := c.Meet("carol", []SeenDevice{{DeviceID: "phone", PubKey: k1}}, now)
	if err != nil || len(ch) != 0 {
		t.Fatalf("first meeting: %v %v (nothing to compare with)", ch, err)
	}
	ch, err = c.Meet("carol", []SeenDevice{{DeviceID: "phone", PubKey: k1}}, now.Add(time.Hour))
	if err != nil || len(ch) != 0 {
		t.Fatalf("same device again: %v %v", ch, err)
	}
	ch, err = c.Meet("carol", []SeenDevice{{DeviceID: "phone", PubKey: k1}, {DeviceID: "tablet", PubKey: k2, Reset: true}}, now.Add(2*time.Hour))
	if err != nil || len(ch) != 1 || ch[0].Device != "tablet" || !ch[0].Reset {
		t.Fatalf("a new device by reset: %v %v", ch, err)
	}
	if !strings.Contains(ch[0].String(), "ACCOUNT RESET") {
		t.Errorf("the warning does not say reset: %s", ch[0])
	}
	ch, err = c.Meet("carol", []SeenDevice{{DeviceID: "tablet", PubKey: k2}}, now.Add(3*time.Hour))
	if err != nil || len(ch) != 0 {
		t.Fatalf("a device already seen: %v %v", ch, err)
	}
	// Another user is independent.
	if ch, err := c.Meet("dave", []SeenDevice{{DeviceID: "desk", PubKey: k3}}, now); err != nil || len(ch) != 0 {
		t.Fatalf("dave's first meeting: %v %v", ch, err)
	}
}
