package verify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/merkle"
	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/parleynet/parley/client/chain"
)

// Chain is what the reader needs of chain access: a node's RPC with
// failover (client/chain.Client.RPC).
type Chain interface {
	RPC(ctx context.Context, call func(ctx context.Context, node string, rpc rpcclient.Client) error) error
	// Distrust leaves node when a check made after RPC returned (Confirm)
	// finds its answer false.
	Distrust(node string, err error)
}

// Reader reads the chain's state with proofs.
type Reader struct {
	chain   Chain
	headers *Headers // nil when verification is off
	prt     *merkle.ProofRuntime
}

// NewReader reads through c and checks against the light client h.
func NewReader(c Chain, h *Headers) *Reader {
	return &Reader{chain: c, headers: h, prt: proofRuntime()}
}

// NewUnverifiedReader reads through c without proofs: for the explicit
// debugging flag only. Every Snapshot it makes says Unverified.
func NewUnverifiedReader(c Chain) *Reader {
	return &Reader{chain: c}
}

// Verified says whether this reader checks proofs.
func (r *Reader) Verified() bool { return r.headers != nil }

// Headers returns the light client (nil when verification is off).
func (r *Reader) Headers() *Headers { return r.headers }

// Snapshot is the chain's state after one block, read key by key, each
// value proven against the app hash in the light-verified header of the
// next block. One snapshot gives consistent reads: all at one height.
//
// A snapshot from Reader.Tip is tentative: it reads the newest state,
// whose header does not exist yet, and keeps every answer's proof until
// Confirm checks them all. Nothing may rest on a tentative value before
// Confirm returns nil, except a transaction that the chain itself
// checks (see client/meeting: the leader's commit).
type Snapshot struct {
	r       *Reader
	height  int64
	appHash []byte
	time    time.Time // of the header that proves it

	mu      sync.Mutex
	pending []pendingRead // tentative answers awaiting their header
}

type pendingRead struct {
	node, what, store string
	key               []byte
	resp              abci.ResponseQuery
}

// Height is the block after which the snapshot shows the state.
func (s *Snapshot) Height() int64 { return s.height }

// Time is the time of the header that proves the snapshot (zero when
// tentative or unverified).
func (s *Snapshot) Time() time.Time { return s.time }

// Proven says whether the snapshot's reads are proven (not tentative and
// not unverified).
func (s *Snapshot) Proven() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appHash != nil
}

// Latest returns a snapshot of the newest state the light client can
// prove: after block L−1 for the newest verified header L.
func (r *Reader) Latest(ctx context.Context) (*Snapshot, error) {
	if r.headers == nil {
		return r.unverifiedTip(ctx)
	}
	lb, err := r.headers.Latest(ctx)
	if err != nil {
		return nil, err
	}
	if lb.Height-1 < minProvableHeight {
		// A new chain: the SDK proves no state before height 2.
		if lb, err = r.headers.At(ctx, minProvableHeight+1); err != nil {
			return nil, err
		}
	}
	return &Snapshot{r: r, height: lb.Height - 1, appHash: lb.AppHash, time: lb.Time}, nil
}

// minProvableHeight is the first height whose state the SDK answers with
// a proof ("cannot query with proof when height <= 1").
const minProvableHeight = 2

// At returns a snapshot of the state after block height, waiting (until
// ctx ends) for the header of height+1 that proves it.
func (r *Reader) At(ctx context.Context, height int64) (*Snapshot, error) {
	height = max(height, minProvableHeight)
	if r.headers == nil {
		return &Snapshot{r: r, height: height}, nil
	}
	lb, err := r.headers.At(ctx, height+1)
	if err != nil {
		return nil, err
	}
	return &Snapshot{r: r, height: height, appHash: lb.AppHash, time: lb.Time}, nil
}

// Tip returns a tentative snapshot of the newest state a node reports:
// its reads come at once, with their proofs kept for Confirm.
func (r *Reader) Tip(ctx context.Context) (*Snapshot, error) {
	s, err := r.unverifiedTip(ctx)
	if err != nil {
		return nil, err
	}
	if r.headers != nil {
		if t := r.headers.Trusted(); t != nil && s.height < t.Height-1 {
			// Never behind what is already proven.
			s.height = t.Height - 1
		}
		s.height = max(s.height, minProvableHeight)
	}
	return s, nil
}

func (r *Reader) unverifiedTip(ctx context.Context) (*Snapshot, error) {
	var height int64
	err := r.chain.RPC(ctx, func(ctx context.Context, _ string, rpc rpcclient.Client) error {
		st, err := rpc.Status(ctx)
		if err != nil {
			return err
		}
		height = st.SyncInfo.LatestBlockHeight
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Snapshot{r: r, height: height}, nil
}

// query asks rpc for key at the snapshot's height. A node that reports the
// height as not (yet, or any longer) available is asked again a few times
// over 300 ms: a node's status names a block a moment before its app has
// committed the state after it, and the leader's tentative reads ask for
// exactly that height. It stays unavailable: chain.ErrCannotServe.
func (s *Snapshot) query(ctx context.Context, rpc rpcclient.Client, store string, key []byte) (abci.ResponseQuery, error) {
	for try := 0; ; try++ {
		res, err := rpc.ABCIQueryWithOptions(ctx, storePath(store), key, rpcclient.ABCIQueryOptions{Height: s.height, Prove: s.r.headers != nil})
		if err != nil {
			return abci.ResponseQuery{}, err
		}
		if !heightUnavailable(res.Response) {
			return res.Response, nil
		}
		if try == 10 {
			return abci.ResponseQuery{}, fmt.Errorf("%w: height %d: %s", chain.ErrCannotServe, s.height, res.Response.Log)
		}
		select {
		case <-ctx.Done():
			return abci.ResponseQuery{}, ctx.Err()
		case <-time.After(30 * time.Millisecond):
		}
	}
}

// heightUnavailable recognises the SDK's answers for a height whose state
// the node does not hold.
func heightUnavailable(resp abci.ResponseQuery) bool {
	if resp.Code == 0 {
		return false
	}
	log := strings.ToLower(resp.Log)
	return strings.Contains(log, "unexpectedly empty") || strings.Contains(log, "version does not exist") ||
		strings.Contains(log, "no commit info found") || strings.Contains(log, "pruned")
}

// Confirm waits for the header that proves a tentative snapshot and
// checks every answer read from it; afterwards the snapshot is proven. A
// failed check is a *LieError naming the node.
func (s *Snapshot) Confirm(ctx context.Context) error {
	if s.r.headers == nil {
		// Verification is off (--insecure-trust-node): the node's word is
		// all there is, and nothing is left to confirm.
		return nil
	}
	if s.Proven() {
		return nil
	}
	lb, err := s.r.headers.At(ctx, s.height+1)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pending {
		if _, err := checkQuery(s.r.prt, p.node, p.what, p.store, p.key, s.height, lb.AppHash, p.resp); err != nil && !isNotFound(err) {
			s.r.chain.Distrust(p.node, err)
			return err
		}
	}
	s.pending = nil
	s.appHash, s.time = lb.AppHash, lb.Time
	return nil
}

// Get reads the raw value at key in a module's store (what names it in
// errors), proven as the snapshot is; for state this package has no typed
// read of (e.g. another module's parameters).
func (s *Snapshot) Get(ctx context.Context, store, what string, key []byte) ([]byte, error) {
	return s.get(ctx, store, what, key)
}

// get reads key from store: proven, tentative (kept for Confirm), or
// unverified, as the snapshot is. ErrNotFound means the key is absent
// (proven so unless the snapshot is tentative or unverified).
func (s *Snapshot) get(ctx context.Context, store, what string, key []byte) ([]byte, error) {
	s.mu.Lock()
	appHash := s.appHash
	s.mu.Unlock()
	var out []byte
	err := s.r.chain.RPC(ctx, func(ctx context.Context, node string, rpc rpcclient.Client) error {
		resp, err := s.query(ctx, rpc, store, key)
		if err != nil {
			return err
		}
		switch {
		case appHash != nil:
			out, err = checkQuery(s.r.prt, node, what, store, key, s.height, appHash, resp)
			return err
		case s.r.headers != nil:
			// Tentative: take the value now, check the proof at Confirm.
			// The answer's shape is checked now (height, key, a proof).
			if err := checkShape(node, what, key, s.height, resp); err != nil {
				return err
			}
			s.mu.Lock()
			s.pending = append(s.pending, pendingRead{node: node, what: what, store: store, key: key, resp: resp})
			s.mu.Unlock()
		case resp.Code != 0:
			return fmt.Errorf("%s: code %d: %s", what, resp.Code, resp.Log)
		}
		out = resp.Value
		if len(out) == 0 {
			return fmt.Errorf("%s at height %d: %w", what, s.height, ErrNotFound)
		}
		return nil
	})
	return out, err
}
