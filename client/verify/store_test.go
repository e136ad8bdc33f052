package verify

import (
	"testing"

	"github.com/cometbft/cometbft/types"
)

// TestMemStorePrunes: the store keeps the newest blocks, answers "before"
// queries, and prunes without blocking (the light client prunes after
// every save; CometBFT's memdb-backed store deadlocked there).
func TestMemStorePrunes(t *testing.T) {
	s := newMemStore()
	for h := int64(1); h <= 500; h++ {
		if err := s.SaveLightBlock(&types.LightBlock{SignedHeader: &types.SignedHeader{Header: &types.Header{Height: h}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Prune(200); err != nil {
			t.Fatal(err)
		}
	}
	if s.Size() != 200 {
		t.Fatalf("size %d, want 200", s.Size())
	}
	first, _ := s.FirstLightBlockHeight()
	last, _ := s.LastLightBlockHeight()
	if first != 301 || last != 500 {
		t.Fatalf("heights %d..%d, want 301..500", first, last)
	}
	if lb, err := s.LightBlockBefore(400); err != nil || lb.Height != 399 {
		t.Fatalf("before 400: %v %v", lb, err)
	}
	if _, err := s.LightBlockBefore(301); err == nil {
		t.Fatal("a block before the first")
	}
	if _, err := s.LightBlock(300); err == nil {
		t.Fatal("a pruned block is still there")
	}
}
