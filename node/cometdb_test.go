package node

import (
	"strings"
	"testing"

	cmtdb "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func cometDBViper(t *testing.T, args ...string) *viper.Viper {
	t.Helper()
	cmd := &cobra.Command{}
	addCometDBFlags(cmd)
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCometDBProvider(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"set", []string{"--cometdb.block-cache", "8388608", "--cometdb.write-buffer", "4194304"}, ""},
		{"block cache too small", []string{"--cometdb.block-cache", "1024"}, "--cometdb.block-cache 1024"},
		{"write buffer too small", []string{"--cometdb.write-buffer", "0"}, "--cometdb.write-buffer 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			provide, err := cometDBProvider(cometDBViper(t, c.args...))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg := cmtcfg.DefaultConfig()
			cfg.SetRoot(t.TempDir())
			for _, backend := range []cmtdb.BackendType{cmtdb.GoLevelDBBackend, cmtdb.MemDBBackend} {
				cfg.DBBackend = string(backend)
				db, err := provide(&cmtcfg.DBContext{ID: "blockstore", Config: cfg})
				if err != nil {
					t.Fatalf("%s: %v", backend, err)
				}
				if _, isLevel := db.(*cmtdb.GoLevelDB); isLevel != (backend == cmtdb.GoLevelDBBackend) {
					t.Errorf("%s: opened a %T", backend, db)
				}
				if err := db.Set([]byte("k"), []byte("v")); err != nil {
					t.Fatal(err)
				}
				if v, err := db.Get([]byte("k")); err != nil || string(v) != "v" {
					t.Fatalf("%s: get = %q, %v", backend, v, err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
