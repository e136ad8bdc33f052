package verify

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/tmhash"
)

// DefaultTrustingPeriod is how long a trusted header may be used to verify
// the next: two thirds of the SDK's default unbonding time (21 days), so
// that validators who signed it still have stake to lose if they lie.
const DefaultTrustingPeriod = 14 * 24 * time.Hour

// Anchor is the header a person chose to trust: the root of everything the
// client verifies.
type Anchor struct {
	ChainID        string
	Height         int64
	Hash           []byte // the header hash, 32 bytes
	TrustingPeriod time.Duration
}

// String returns "HEIGHT:HASH" (the hash in upper-case hex), the form
// --trust and invite links carry.
func (a Anchor) String() string {
	return fmt.Sprintf("%d:%X", a.Height, a.Hash)
}

// ParseAnchor reads "HEIGHT:HASH" for chainID, with the default trusting
// period.
func ParseAnchor(chainID, s string) (Anchor, error) {
	h, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Anchor{}, fmt.Errorf("trust anchor %q: want HEIGHT:HASH", s)
	}
	height, err := strconv.ParseInt(h, 10, 64)
	if err != nil || height <= 0 {
		return Anchor{}, fmt.Errorf("trust anchor %q: height must be a positive number", s)
	}
	bz, err := hex.DecodeString(hash)
	if err != nil || len(bz) != tmhash.Size {
		return Anchor{}, fmt.Errorf("trust anchor %q: hash must be %d hex digits", s, 2*tmhash.Size)
	}
	return Anchor{ChainID: chainID, Height: height, Hash: bz, TrustingPeriod: DefaultTrustingPeriod}, nil
}

func (a Anchor) check() error {
	switch {
	case a.ChainID == "":
		return fmt.Errorf("trust anchor: no chain ID")
	case a.Height <= 0 || len(a.Hash) != tmhash.Size:
		return fmt.Errorf("trust anchor %s: want a positive height and a %d-byte hash", a, tmhash.Size)
	case a.TrustingPeriod <= 0:
		return fmt.Errorf("trust anchor %s: trusting period must be positive", a)
	}
	return nil
}
