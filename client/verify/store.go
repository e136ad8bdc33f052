package verify

import (
	"slices"
	"sync"

	"github.com/cometbft/cometbft/light/store"
	"github.com/cometbft/cometbft/types"
)

// memStore is the light client's trusted store, in memory. CometBFT's
// own light/store/db cannot be used on cometbft-db's memdb: its Prune
// holds an iterator (and with it memdb's read lock) while it writes the
// deletions (which take the write lock), so the first prune deadlocks the
// light client, about a minute after start at 300 ms blocks. A disk
// backend would need a directory per process (goleveldb locks it) and
// gains nothing: what must outlive the process is the newest trusted
// block, which State keeps.
type memStore struct {
	mu      sync.Mutex
	blocks  map[int64]*types.LightBlock
	heights []int64 // sorted
}

func newMemStore() *memStore { return &memStore{blocks: map[int64]*types.LightBlock{}} }

var _ store.Store = (*memStore)(nil)

func (s *memStore) SaveLightBlock(lb *types.LightBlock) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.blocks[lb.Height]; !ok {
		i, _ := slices.BinarySearch(s.heights, lb.Height)
		s.heights = slices.Insert(s.heights, i, lb.Height)
	}
	s.blocks[lb.Height] = lb
	return nil
}

func (s *memStore) DeleteLightBlock(height int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.blocks[height]; ok {
		delete(s.blocks, height)
		i, _ := slices.BinarySearch(s.heights, height)
		s.heights = slices.Delete(s.heights, i, i+1)
	}
	return nil
}

func (s *memStore) LightBlock(height int64) (*types.LightBlock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, ok := s.blocks[height]
	if !ok {
		return nil, store.ErrLightBlockNotFound
	}
	return lb, nil
}

func (s *memStore) LastLightBlockHeight() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.heights) == 0 {
		return -1, nil
	}
	return s.heights[len(s.heights)-1], nil
}

func (s *memStore) FirstLightBlockHeight() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.heights) == 0 {
		return -1, nil
	}
	return s.heights[0], nil
}

func (s *memStore) LightBlockBefore(height int64) (*types.LightBlock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearch(s.heights, height)
	if i == 0 {
		return nil, store.ErrLightBlockNotFound
	}
	return s.blocks[s.heights[i-1]], nil
}

// Prune keeps the newest size blocks.
func (s *memStore) Prune(size uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.heights) - int(size)
	if n <= 0 {
		return nil
	}
	for _, h := range s.heights[:n] {
		delete(s.blocks, h)
	}
	s.heights = slices.Clone(s.heights[n:])
	return nil
}

func (s *memStore) Size() uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint16(min(len(s.heights), 1<<16-1)) //nolint:gosec // clamped
}
