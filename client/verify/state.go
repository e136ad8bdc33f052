package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"
)

// State is what a client keeps of its trust in one chain: the anchor the
// person chose and the newest light block verified from it, so that the
// next start verifies from there (cheap, and independent of whether nodes
// still keep the anchor's block).
type State struct {
	Anchor Anchor
	SetAt  time.Time         // when the anchor was set
	Latest *types.LightBlock // newest verified light block; nil until the first verification
}

// stateFile is the JSON layout of <dir>/<chain-id>.json.
type stateFile struct {
	ChainID        string `json:"chain_id"`
	Height         int64  `json:"height"`
	Hash           string `json:"hash"`
	TrustingPeriod string `json:"trusting_period"`
	SetAt          string `json:"set_at"`
	// Latest is the newest verified light block, protobuf-encoded
	// (tendermint.types.LightBlock).
	Latest []byte `json:"latest,omitempty"`
}

var chainIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// StatePath is where the state of chainID is kept under dir.
func StatePath(dir, chainID string) (string, error) {
	if !chainIDPattern.MatchString(chainID) {
		return "", fmt.Errorf("chain ID %q cannot name a file", chainID)
	}
	return filepath.Join(dir, chainID+".json"), nil
}

// LoadState reads the state of chainID from dir; ErrNoAnchor if none.
func LoadState(dir, chainID string) (State, error) {
	p, err := StatePath(dir, chainID)
	if err != nil {
		return State{}, err
	}
	bz, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return State{}, fmt.Errorf("chain %s: %w", chainID, ErrNoAnchor)
	} else if err != nil {
		return State{}, err
	}
	var f stateFile
	if err := json.Unmarshal(bz, &f); err != nil {
		return State{}, fmt.Errorf("trust state %s: %w", p, err)
	}
	if f.ChainID != chainID {
		return State{}, fmt.Errorf("trust state %s is for chain %q, not %q", p, f.ChainID, chainID)
	}
	a, err := ParseAnchor(chainID, fmt.Sprintf("%d:%s", f.Height, f.Hash))
	if err != nil {
		return State{}, fmt.Errorf("trust state %s: %w", p, err)
	}
	if a.TrustingPeriod, err = time.ParseDuration(f.TrustingPeriod); err != nil || a.TrustingPeriod <= 0 {
		return State{}, fmt.Errorf("trust state %s: trusting period %q", p, f.TrustingPeriod)
	}
	st := State{Anchor: a}
	st.SetAt, _ = time.Parse(time.RFC3339, f.SetAt)
	if len(f.Latest) > 0 {
		var pb cmtproto.LightBlock
		if err := pb.Unmarshal(f.Latest); err != nil {
			return State{}, fmt.Errorf("trust state %s: latest light block: %w", p, err)
		}
		lb, err := types.LightBlockFromProto(&pb)
		if err != nil {
			return State{}, fmt.Errorf("trust state %s: latest light block: %w", p, err)
		}
		if err := lb.ValidateBasic(chainID); err != nil {
			return State{}, fmt.Errorf("trust state %s: latest light block: %w", p, err)
		}
		st.Latest = lb
	}
	return st, nil
}

// SaveState writes st to dir (mode 0600, atomically). A Latest older than
// the one already on disk is not written back over it (two processes of
// one home may both save).
func SaveState(dir string, st State) error {
	if err := st.Anchor.check(); err != nil {
		return err
	}
	p, err := StatePath(dir, st.Anchor.ChainID)
	if err != nil {
		return err
	}
	latest := st.Latest
	if on, err := LoadState(dir, st.Anchor.ChainID); err == nil && on.Latest != nil && bytesEqual(on.Anchor.Hash, st.Anchor.Hash) &&
		(latest == nil || on.Latest.Height > latest.Height) {
		latest = on.Latest
	}
	f := stateFile{
		ChainID: st.Anchor.ChainID, Height: st.Anchor.Height, Hash: fmt.Sprintf("%X", st.Anchor.Hash),
		TrustingPeriod: st.Anchor.TrustingPeriod.String(), SetAt: st.SetAt.UTC().Format(time.RFC3339),
	}
	if latest != nil {
		pb, err := latest.ToProto()
		if err != nil {
			return err
		}
		if f.Latest, err = pb.Marshal(); err != nil {
			return err
		}
	}
	bz, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(bz); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
