package node

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func TestMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		name       string
		args       []string
		gomemlimit string
		want       int64
		wantSet    bool
		wantErr    string
	}{
		{"default", nil, "", DefaultMemoryLimitMiB << 20, true, ""},
		{"flag", []string{"--memory-limit", "256"}, "", 256 << 20, true, ""},
		{"none", []string{"--memory-limit", "0"}, "", -1, true, ""},
		{"GOMEMLIMIT left to the runtime", nil, "1GiB", 0, false, ""},
		{"the flag given wins over GOMEMLIMIT", []string{"--memory-limit", "200"}, "1GiB", 200 << 20, true, ""},
		{"negative", []string{"--memory-limit", "-5"}, "", 0, false, "--memory-limit -5"},
		{"too small", []string{"--memory-limit", "10"}, "", 0, false, "below 64 MiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := &cobra.Command{}
			addMemoryLimitFlag(cmd)
			if err := cmd.Flags().Parse(c.args); err != nil {
				t.Fatal(err)
			}
			v := viper.New()
			if err := v.BindPFlags(cmd.Flags()); err != nil {
				t.Fatal(err)
			}
			got, set, err := memoryLimit(v, c.gomemlimit)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want || set != c.wantSet {
				t.Fatalf("memoryLimit = %d, %v, %v; want %d, %v", got, set, err, c.want, c.wantSet)
			}
		})
	}
}

// TestApplyMemoryLimit: the start path sets the runtime's limit.
func TestApplyMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	v := viper.New()
	v.Set(FlagMemoryLimit, 300)
	if _, err := applyMemoryLimit(v); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Fatalf("runtime memory limit %d, want %d", got, 300<<20)
	}
}
