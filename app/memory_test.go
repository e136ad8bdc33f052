package app_test

import (
	"bytes"
	"strings"
	"testing"

	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/server"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/parleynet/parley/app"
)

// The genesis parleyd init writes keeps no staking history, and still
// validates.
func TestDefaultGenesisKeepsNoStakingHistory(t *testing.T) {
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()))
	gs := a.DefaultGenesis()
	var st stakingtypes.GenesisState
	if err := a.AppCodec().UnmarshalJSON(gs[stakingtypes.ModuleName], &st); err != nil {
		t.Fatal(err)
	}
	if st.Params.HistoricalEntries != app.DefaultHistoricalEntries {
		t.Errorf("historical_entries = %d, want %d", st.Params.HistoricalEntries, app.DefaultHistoricalEntries)
	}
	if want := stakingtypes.DefaultParams(); st.Params.UnbondingTime != want.UnbondingTime || st.Params.BondDenom != want.BondDenom {
		t.Errorf("the other staking params changed: %+v", st.Params)
	}
	if err := a.BasicModuleManager.ValidateGenesis(a.AppCodec(), a.TxConfig(), gs); err != nil {
		t.Fatalf("default genesis does not validate: %v", err)
	}
}

// An app.toml with the SDK's iavl-cache-size gets a warning at start; the
// default does not.
func TestWarnsAboutLargeIAVLCaches(t *testing.T) {
	for _, c := range []struct {
		name string
		size any
		warn bool
	}{
		{"unset", nil, false},
		{"parley default", app.DefaultIAVLCacheSize, false},
		{"sdk default", 781250, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			opts := simtestutil.AppOptionsMap{flags.FlagHome: t.TempDir()}
			if c.size != nil {
				opts[server.FlagIAVLCacheSize] = c.size
			}
			a := app.New(log.NewLogger(&buf), dbm.NewMemDB(), false, opts)
			defer a.Close()
			if got := strings.Contains(buf.String(), "iavl-cache-size"); got != c.warn {
				t.Errorf("warned = %v, want %v; log:\n%s", got, c.warn, buf.String())
			}
		})
	}
}
