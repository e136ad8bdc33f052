package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	"github.com/cometbft/cometbft/light/store"
	"github.com/cometbft/cometbft/types"
)

// HeadersConfig configures a light client over a list of nodes.
type HeadersConfig struct {
	ChainID string
	// Nodes are CometBFT RPC addresses; the first is the primary, the
	// others witnesses. With one node, it is its own witness: every
	// header still needs the trusted validators' signatures, but a fork
	// cannot be noticed.
	Nodes []string
	// State holds the anchor and, if known, the newest trusted light block.
	State State
	// Save, if set, is given the newest verified light block now and then
	// (at most every SaveEvery) and on Close, to keep in the state file.
	Save      func(*types.LightBlock) error
	SaveEvery time.Duration // default 10 s
	// MaxHeaderAge: when the primary's newest header is older than this,
	// the other nodes are asked whether they have newer blocks; a primary
	// that withholds them is left. Default 20 s.
	MaxHeaderAge time.Duration
	// LagWait is how long a node a little behind is given to reach the
	// height asked for. Default 1 s.
	LagWait time.Duration
	// Now is the clock (trusting period, header age); default time.Now.
	Now func() time.Time
	// OnNotice, if set, is told in words when a node is left or banned;
	// it must not block.
	OnNotice func(string)
}

func (c HeadersConfig) withDefaults() HeadersConfig {
	if c.SaveEvery == 0 {
		c.SaveEvery = 10 * time.Second
	}
	if c.MaxHeaderAge == 0 {
		c.MaxHeaderAge = 20 * time.Second
	}
	if c.LagWait == 0 {
		c.LagWait = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.OnNotice == nil {
		c.OnNotice = func(string) {}
	}
	return c
}

// Headers is a light client: it verifies headers from the trust anchor on,
// skipping ahead (bisection) where the validator set allows, and
// cross-checks each new header with the witnesses. Safe for concurrent
// use; one verification runs at a time.
type Headers struct {
	cfg       HeadersConfig
	providers map[string]*nodeProvider
	store     store.Store

	mu       sync.Mutex
	lc       *light.Client
	order    []string          // nodes in use, primary first
	banned   map[string]string // nodes never used again, with the reason
	latest   *types.LightBlock
	lastSave time.Time
}

// NewHeaders starts a light client from cfg.State: from its newest
// trusted light block if it has one (no node needs to keep old blocks),
// else from the anchor, whose header the primary must serve with the
// anchor's hash.
func NewHeaders(ctx context.Context, cfg HeadersConfig) (*Headers, error) {
	cfg = cfg.withDefaults()
	if err := cfg.State.Anchor.check(); err != nil {
		return nil, err
	}
	if cfg.State.Anchor.ChainID != cfg.ChainID {
		return nil, fmt.Errorf("trust anchor is for chain %q, not %q", cfg.State.Anchor.ChainID, cfg.ChainID)
	}
	if len(cfg.Nodes) == 0 {
		return nil, errors.New("light client: no node address")
	}
	h := &Headers{
		cfg: cfg, providers: map[string]*nodeProvider{}, banned: map[string]string{},
		store: newMemStore(), order: slices.Clone(cfg.Nodes),
	}
	for _, addr := range cfg.Nodes {
		p, err := newNodeProvider(cfg.ChainID, addr, cfg.LagWait)
		if err != nil {
			return nil, err
		}
		h.providers[addr] = p
	}
	if lb := cfg.State.Latest; lb != nil && lb.Height >= cfg.State.Anchor.Height {
		if age := cfg.Now().Sub(lb.Time); age > cfg.State.Anchor.TrustingPeriod {
			return nil, fmt.Errorf("%w (newest trusted header: height %d from %s, %s ago; trusting period %s)",
				ErrAnchorExpired, lb.Height, lb.Time.UTC().Format(time.RFC3339), age.Round(time.Hour), cfg.State.Anchor.TrustingPeriod)
		}
		if err := h.store.SaveLightBlock(lb); err != nil {
			return nil, err
		}
		if err := h.rebuild(); err != nil {
			return nil, err
		}
		h.latest = lb
		return h, nil
	}
	if err := h.initFromAnchor(ctx); err != nil {
		return nil, err
	}
	if cfg.Save != nil {
		if err := cfg.Save(h.latest); err != nil {
			cfg.OnNotice("cannot save the trusted header: " + err.Error())
		}
	}
	return h, nil
}

func (h *Headers) options() []light.Option {
	return []light.Option{
		light.SkippingVerification(light.DefaultTrustLevel),
		light.PruningSize(200),
		light.Logger(cmtlog.NewNopLogger()),
	}
}

// initFromAnchor fetches the anchor's light block from the first node that
// serves it with the anchor's hash.
func (h *Headers) initFromAnchor(ctx context.Context) error {
	a := h.cfg.State.Anchor
	opts := light.TrustOptions{Period: a.TrustingPeriod, Height: a.Height, Hash: a.Hash}
	var errs []error
	for range h.order {
		primary, witnesses := h.providerSet()
		lc, err := light.NewClient(ctx, h.cfg.ChainID, opts, primary, witnesses, h.store, h.options()...)
		if err == nil {
			h.lc = lc
			h.latest, _ = h.store.LightBlock(a.Height)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var expired light.ErrOldHeaderExpired
		if errors.As(err, &expired) {
			return fmt.Errorf("%w (anchor height %d expired at %s)", ErrAnchorExpired, a.Height, expired.At.UTC().Format(time.RFC3339))
		}
		if strings.Contains(err.Error(), "expected header's hash") || strings.Contains(err.Error(), "does not match") {
			err = fmt.Errorf("its header at height %d does not have the anchor's hash %X (either the anchor is wrong or the node lies): %w", a.Height, a.Hash, err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", primary, err))
		h.demote(h.order[0])
	}
	return fmt.Errorf("light client: no node serves the anchor %s of chain %s: %w", a, h.cfg.ChainID, errors.Join(errs...))
}

// providerSet returns the primary and the witnesses for the nodes in use.
func (h *Headers) providerSet() (provider.Provider, []provider.Provider) {
	primary := h.providers[h.order[0]]
	var witnesses []provider.Provider
	for _, addr := range h.order[1:] {
		witnesses = append(witnesses, h.providers[addr])
	}
	if len(witnesses) == 0 {
		// CometBFT's light client needs a witness; with one node it is
		// its own (a separate connection). Documented in PROTOCOL.md.
		own, _ := newNodeProvider(h.cfg.ChainID, h.order[0], h.cfg.LagWait)
		witnesses = append(witnesses, own)
	}
	return primary, witnesses
}

// rebuild makes a fresh light client over the nodes in use, from the
// trusted store: cheap, and it restores every witness the light client
// dropped for not answering.
func (h *Headers) rebuild() error {
	if len(h.order) == 0 {
		return h.noNodes()
	}
	primary, witnesses := h.providerSet()
	lc, err := light.NewClientFromTrustedStore(h.cfg.ChainID, h.cfg.State.Anchor.TrustingPeriod, primary, witnesses, h.store, h.options()...)
	if err != nil {
		return err
	}
	h.lc = lc
	return nil
}

func (h *Headers) noNodes() error {
	var why []string
	for addr, reason := range h.banned {
		why = append(why, addr+": "+reason)
	}
	slices.Sort(why)
	return fmt.Errorf("%w: %s", ErrNoNodes, strings.Join(why, "; "))
}

// demote moves addr to the end of the order, so the next node becomes
// primary.
func (h *Headers) demote(addr string) {
	i := slices.Index(h.order, addr)
	if i < 0 || len(h.order) < 2 {
		return
	}
	h.order = append(slices.Delete(slices.Clone(h.order), i, i+1), addr)
}

func (h *Headers) ban(addr, reason string) {
	if i := slices.Index(h.order, addr); i >= 0 {
		h.order = slices.Delete(h.order, i, i+1)
	}
	h.banned[addr] = reason
}

// Nodes returns the nodes in use, primary first.
func (h *Headers) Nodes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.order)
}

// Trusted returns the newest verified light block (nil before any).
func (h *Headers) Trusted() *types.LightBlock {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.latest
}

// At returns the verified light block at height, waiting (until ctx ends)
// for the chain to reach it.
func (h *Headers) At(ctx context.Context, height int64) (*types.LightBlock, error) {
	if height <= 0 {
		return nil, fmt.Errorf("light client: height %d", height)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if lb, err := h.store.LightBlock(height); err == nil {
		return lb, nil
	}
	return h.verifyLocked(ctx, height)
}

// Latest verifies the primary's newest header and returns the newest
// verified light block. A primary whose newest header is older than
// MaxHeaderAge while another node has newer blocks is left.
func (h *Headers) Latest(ctx context.Context) (*types.LightBlock, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for range 2 {
		if len(h.order) == 0 {
			return nil, h.noNodes()
		}
		primary := h.order[0]
		height, _, err := h.providers[primary].latestHeight(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			h.cfg.OnNotice(fmt.Sprintf("chain node %s does not answer (%v); headers now from %s", primary, err, h.next(primary)))
			h.demote(primary)
			if err := h.rebuild(); err != nil {
				return nil, err
			}
			continue
		}
		if h.latest != nil && height <= h.latest.Height {
			return h.latest, nil
		}
		lb, err := h.verifyLocked(ctx, height)
		if err != nil {
			return nil, err
		}
		if age := h.cfg.Now().Sub(lb.Time); age > h.cfg.MaxHeaderAge {
			if other, oh := h.fresher(ctx, lb.Height); other != "" {
				h.cfg.OnNotice(fmt.Sprintf("chain node %s serves old blocks (height %d, %s ago) while %s is at height %d; headers now from %s",
					h.order[0], lb.Height, age.Round(time.Second), other, oh, other))
				h.promote(other)
				if err := h.rebuild(); err != nil {
					return nil, err
				}
				continue
			}
		}
		return lb, nil
	}
	return h.latest, nil
}

func (h *Headers) next(addr string) string {
	for _, a := range h.order {
		if a != addr {
			return a
		}
	}
	return addr
}

func (h *Headers) promote(addr string) {
	if i := slices.Index(h.order, addr); i > 0 {
		h.order = append([]string{addr}, slices.Delete(slices.Clone(h.order), i, i+1)...)
	}
}

// fresher returns a node that reports a height above height.
func (h *Headers) fresher(ctx context.Context, height int64) (string, int64) {
	for _, addr := range h.order[1:] {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		oh, _, err := h.providers[addr].latestHeight(ctx)
		cancel()
		if err == nil && oh > height+1 {
			return addr, oh
		}
	}
	return "", 0
}

// verifyLocked verifies the light block at height, recovering from nodes
// that do not answer or whose answers do not verify. h.mu is held.
func (h *Headers) verifyLocked(ctx context.Context, height int64) (*types.LightBlock, error) {
	var last error
	for attempt := 0; attempt <= len(h.cfg.Nodes)+1; attempt++ {
		if len(h.order) == 0 {
			return nil, h.noNodes()
		}
		if err := h.waitFor(ctx, height); err != nil {
			return nil, err
		}
		lb, err := h.lc.VerifyLightBlockAtHeight(ctx, height, h.cfg.Now())
		if err == nil {
			h.noteLatest(lb)
			return lb, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if fatal := h.recover(ctx, height, err); fatal != nil {
			return nil, fatal
		}
		last = err
	}
	return nil, fmt.Errorf("light client: header %d: %w", height, last)
}

// waitFor waits until the primary reports a block at height (a request for
// a height the node does not have yet would make the light client move
// to another primary).
func (h *Headers) waitFor(ctx context.Context, height int64) error {
	p := h.providers[h.order[0]]
	for {
		have, _, err := p.latestHeight(ctx)
		if err != nil || have >= height {
			return nil // the light client's own handling takes over
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("light client: waiting for height %d (node %s is at %d): %w", height, p.addr, have, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// recover deals with a failed verification: an expired anchor or an
// attack ends it (returned); a node that lied or did not answer is left
// and the light client rebuilt over the others (nil: try again).
func (h *Headers) recover(ctx context.Context, height int64, err error) error {
	primary := h.order[0]
	if p, ok := h.lc.Primary().(*nodeProvider); ok {
		primary = p.addr
	}
	var (
		expired  light.ErrOldHeaderExpired
		conflict light.ErrConflictingHeaders
		diverge  light.ErrProposerPrioritiesDiverge
	)
	switch {
	case errors.As(err, &expired):
		return fmt.Errorf("%w (the newest trusted header expired at %s)", ErrAnchorExpired, expired.At.UTC().Format(time.RFC3339))
	case errors.Is(err, light.ErrLightClientAttack), errors.As(err, &conflict), errors.As(err, &diverge):
		return h.attack(ctx, height, primary, err)
	case errors.Is(err, light.ErrNoWitnesses):
		// Every witness was dropped for not answering; they may be back.
	case isVerificationFailure(err):
		l := &LieError{Node: primary, What: fmt.Sprintf("header %d", height), Height: height, Err: err}
		h.cfg.OnNotice(l.Error() + "; leaving it")
		h.demote(primary)
	default:
		h.demote(primary)
	}
	return h.rebuild()
}

func isVerificationFailure(err error) bool {
	var (
		failed  light.ErrVerificationFailed
		invalid light.ErrInvalidHeader
		valset  light.ErrNewValSetCantBeTrusted
	)
	return errors.As(err, &failed) || errors.As(err, &invalid) || errors.As(err, &valset) || isBadBlock(err) ||
		errors.Is(err, light.ErrFailedHeaderCrossReferencing)
}

// attack asks every node in use for its header at height, reports who
// says what, and stops using the primary and every node that disagrees
// with it.
func (h *Headers) attack(ctx context.Context, height int64, primary string, cause error) error {
	hashes := map[string][]byte{}
	for _, addr := range h.order {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		lb, err := h.providers[addr].inner.LightBlock(ctx, height)
		cancel()
		if err == nil {
			hashes[addr] = lb.Hash()
		}
	}
	var (
		involved = []string{primary}
		said     []string
	)
	for _, addr := range h.order {
		if hash, ok := hashes[addr]; ok {
			said = append(said, fmt.Sprintf("%s says %X", addr, hash))
			if addr != primary && !bytes.Equal(hash, hashes[primary]) {
				involved = append(involved, addr)
			}
		}
	}
	reason := fmt.Sprintf("conflicting headers at height %d (%s)", height, strings.Join(said, ", "))
	for _, addr := range involved {
		h.ban(addr, reason)
	}
	msg := fmt.Sprintf("%v at height %d: %s; no longer using %s", ErrAttack, height, strings.Join(said, "; "), strings.Join(involved, " and "))
	h.cfg.OnNotice(msg)
	if len(h.order) > 0 {
		if err := h.rebuild(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w at height %d: %s; no longer using %s (light client: %v)", ErrAttack, height, strings.Join(said, "; "), strings.Join(involved, " and "), cause)
}

// noteLatest keeps lb if it is the newest, and saves it now and then.
func (h *Headers) noteLatest(lb *types.LightBlock) {
	if h.latest != nil && lb.Height <= h.latest.Height {
		return
	}
	h.latest = lb
	if h.cfg.Save != nil && h.cfg.Now().Sub(h.lastSave) >= h.cfg.SaveEvery {
		h.lastSave = h.cfg.Now()
		if err := h.cfg.Save(lb); err != nil {
			h.cfg.OnNotice("cannot save the newest trusted header: " + err.Error())
		}
	}
}

// Close saves the newest verified light block.
func (h *Headers) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cfg.Save != nil && h.latest != nil {
		return h.cfg.Save(h.latest)
	}
	return nil
}
