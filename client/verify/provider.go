package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/light/provider"
	lighthttp "github.com/cometbft/cometbft/light/provider/http"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/types"
)

// nodeProvider is one node as the light client sees it: CometBFT's HTTP
// provider, plus two things the light client needs on a live network of a
// few validators:
//
//   - a node a block behind (its validators commit a few milliseconds
//     apart) is given up to lagWait to reach the height asked for, instead
//     of the light client's detector concluding it is far behind and
//     sleeping 2·drift + lag (30 s by default) before asking again;
//   - a node that does not answer (stopped, restarting) is "no response",
//     which the light client tolerates, not a faulty node it drops for
//     good: nodes come back.
//
// Invalid light blocks still come back as provider.ErrBadLightBlock, and
// the light client removes the node.
type nodeProvider struct {
	addr    string
	rpc     *rpchttp.HTTP
	inner   provider.Provider
	lagWait time.Duration
}

func newNodeProvider(chainID, addr string, lagWait time.Duration) (*nodeProvider, error) {
	rpc, err := rpchttp.NewWithTimeout(httpAddr(addr), "/websocket", 5)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", addr, err)
	}
	return &nodeProvider{addr: addr, rpc: rpc, inner: lighthttp.NewWithClient(chainID, rpc), lagWait: lagWait}, nil
}

// httpAddr turns CometBFT's tcp:// form into a URL the HTTP client takes.
func httpAddr(addr string) string {
	switch {
	case len(addr) > 6 && addr[:6] == "tcp://":
		return "http://" + addr[6:]
	case !containsScheme(addr):
		return "http://" + addr
	}
	return addr
}

func containsScheme(addr string) bool {
	for i := 0; i+2 < len(addr); i++ {
		if addr[i:i+3] == "://" {
			return true
		}
	}
	return false
}

func (p *nodeProvider) ChainID() string { return p.inner.ChainID() }
func (p *nodeProvider) String() string  { return p.addr }

func (p *nodeProvider) LightBlock(ctx context.Context, height int64) (*types.LightBlock, error) {
	deadline := time.Now().Add(p.lagWait)
	for {
		lb, err := p.inner.LightBlock(ctx, height)
		switch {
		case err == nil:
			return lb, nil
		case errors.Is(err, provider.ErrHeightTooHigh) && height > 0 && time.Now().Before(deadline):
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		case errors.Is(err, provider.ErrHeightTooHigh):
			// Still behind: count it as not answering, so that the
			// detector neither waits 30 s nor treats it as a witness.
			return nil, provider.ErrNoResponse
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return nil, err
		case isBadBlock(err), errors.Is(err, provider.ErrLightBlockNotFound), errors.Is(err, provider.ErrNoResponse):
			return nil, err
		default:
			// Refused, reset, closed: the node is not there now.
			return nil, provider.ErrNoResponse
		}
	}
}

func (p *nodeProvider) ReportEvidence(ctx context.Context, ev types.Evidence) error {
	return p.inner.ReportEvidence(ctx, ev)
}

// latestHeight asks the node for its latest block height.
func (p *nodeProvider) latestHeight(ctx context.Context) (int64, time.Time, error) {
	st, err := p.rpc.Status(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	return st.SyncInfo.LatestBlockHeight, st.SyncInfo.LatestBlockTime, nil
}

func isBadBlock(err error) bool {
	var bad provider.ErrBadLightBlock
	return errors.As(err, &bad)
}
