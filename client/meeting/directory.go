package meeting

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/parleynet/parley/client/verify"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// directory caches what the chain never changes once written: a device's
// key and who added it (device IDs are never reused), and a user's
// registration height. Entries come only from proven (or, for the leader,
// tentative and then confirmed) snapshots.
type directory struct {
	mu          sync.Mutex
	devices     map[DeviceRef]identitytypes.Device
	users       map[string]identitytypes.User
	firstDevice map[string]string // the device each user registered with
}

func newDirectory() *directory {
	return &directory{devices: map[DeviceRef]identitytypes.Device{}, users: map[string]identitytypes.User{}, firstDevice: map[string]string{}}
}

// forget drops everything, after a node was caught lying in a tentative
// read that fed the cache.
func (d *directory) forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.devices)
	clear(d.users)
	clear(d.firstDevice)
}

// member returns m's verified Member: device key, approver, reset mark.
func (d *directory) member(ctx context.Context, snap *verify.Snapshot, ref DeviceRef, ephPub []byte) (Member, error) {
	d.mu.Lock()
	dev, okd := d.devices[ref]
	u, oku := d.users[ref.User]
	d.mu.Unlock()
	var err error
	if !okd {
		if dev, err = snap.Device(ctx, ref.User, ref.Device); err != nil {
			return Member{}, err
		}
	}
	if !oku {
		if u, err = snap.User(ctx, ref.User); err != nil {
			return Member{}, err
		}
	}
	d.mu.Lock()
	d.devices[ref], d.users[ref.User] = dev, u
	d.mu.Unlock()
	reset, err := d.byReset(ctx, snap, ref, dev, u)
	if err != nil {
		return Member{}, err
	}
	return Member{DeviceRef: ref, DevicePub: dev.Pubkey, EphPub: ephPub, AddedBy: dev.AddedBy, Reset: reset}, nil
}

// byReset says whether dev came with an account reset: no device approved
// it (added_by is empty) and it is not the device the user registered
// with (history entry 0; device IDs are never reused).
func (d *directory) byReset(ctx context.Context, snap *verify.Snapshot, ref DeviceRef, dev identitytypes.Device, u identitytypes.User) (bool, error) {
	switch {
	case dev.AddedBy != "":
		return false, nil
	case dev.AddedHeight > u.CreatedHeight:
		return true, nil
	}
	// Added in the registration's block: the registration's device, or a
	// reset in that same block.
	d.mu.Lock()
	first, ok := d.firstDevice[ref.User]
	d.mu.Unlock()
	if !ok {
		e, err := snap.HistoryEntry(ctx, ref.User, 0)
		if err != nil {
			return false, err
		}
		first = e.DeviceId
		d.mu.Lock()
		d.firstDevice[ref.User] = first
		d.mu.Unlock()
	}
	return first != ref.Device, nil
}

// members resolves refs (with their ephemeral keys) in parallel.
func (d *directory) members(ctx context.Context, snap *verify.Snapshot, refs []DeviceRef, ephs [][]byte) ([]Member, error) {
	out := make([]Member, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, ref := range refs {
		g.Go(func() error {
			m, err := d.member(gctx, snap, ref, ephs[i])
			out[i] = m
			return err
		})
	}
	return out, g.Wait()
}
