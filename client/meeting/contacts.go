package meeting

import (
	"time"

	"github.com/parleynet/parley/client/identity"
)

// Contacts remembers the devices of people met (client/identity.Contacts).
type Contacts interface {
	Meet(user string, devices []identity.SeenDevice, now time.Time) ([]identity.KeyChange, error)
}

// checkContacts compares each other user of ep with the devices this
// device met them with before, records what it sees, marks members whose
// device is new since, and reports each such change (EventKeyChange).
func (s *Session) checkContacts(ep *Epoch) {
	if s.cfg.Contacts == nil {
		return
	}
	byUser := map[string][]identity.SeenDevice{}
	var users []string
	for _, m := range ep.Members {
		if m.User == s.cfg.Device.UserID {
			continue // one's own devices: `parley identity audit`
		}
		if _, ok := byUser[m.User]; !ok {
			users = append(users, m.User)
		}
		byUser[m.User] = append(byUser[m.User], identity.SeenDevice{DeviceID: m.Device, PubKey: m.DevicePub, Reset: m.Reset})
	}
	now := time.Now()
	for _, u := range users {
		changes, err := s.cfg.Contacts.Meet(u, byUser[u], now)
		if err != nil {
			s.cfg.OnEvent(EventProblem{Peer: "contacts", Err: err})
			continue
		}
		for _, c := range changes {
			for i := range ep.Members {
				if ep.Members[i].User == c.User && ep.Members[i].Device == c.Device {
					ep.Members[i].NewSinceMet = true
				}
			}
			s.cfg.OnEvent(EventKeyChange{Change: c})
		}
	}
}
