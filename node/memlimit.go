package node

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// The Go runtime's soft memory limit for parleyd (issue 12 item 10). The
// live heap of a node levels off (docs/PERFORMANCE.md, soak), but with the
// runtime's default GOGC=100 the heap it keeps mapped swings up to twice
// the live heap and is handed back to the system slowly, so a node's
// resident memory sat far above what it uses and kept drifting up. A soft
// limit makes the collector run sooner as the runtime's memory nears it
// and returns free memory to the system to stay under it; it never fails
// an allocation (above it, the collector is capped at about half the CPU).
const (
	FlagMemoryLimit = "memory-limit"
	// DefaultMemoryLimitMiB is the default limit on the memory the Go
	// runtime maps (heap, stacks, its own structures), not counting the
	// binary's pages (about 120 MB resident, shared and clean): together
	// they stay under 300 MB while the live heap is under about half of it
	// (a single validator's live heap under a 10-meeting load: 50–80 MB).
	DefaultMemoryLimitMiB = 160
)

func addMemoryLimitFlag(cmd *cobra.Command) {
	cmd.Flags().Int64(FlagMemoryLimit, DefaultMemoryLimitMiB,
		"soft limit, in MiB, on the memory the Go runtime maps; 0 for none. GOMEMLIMIT, when set, is used instead unless this flag is given (env PARLEYD_MEMORY_LIMIT)")
}

// memoryLimit returns the limit in bytes to set (ok false: leave the
// runtime's own, from GOMEMLIMIT or none). The flag set explicitly wins;
// otherwise GOMEMLIMIT, if set, is left to the runtime, which has read it.
func memoryLimit(v *viper.Viper, gomemlimit string) (limit int64, ok bool, err error) {
	mib := int64(DefaultMemoryLimitMiB)
	if v.IsSet(FlagMemoryLimit) {
		mib = v.GetInt64(FlagMemoryLimit)
	} else if gomemlimit != "" {
		return 0, false, nil
	}
	switch {
	case mib < 0:
		return 0, false, fmt.Errorf("--%s %d: want 0 (none) or a size in MiB", FlagMemoryLimit, mib)
	case mib == 0:
		return -1, true, nil // math.MaxInt64 below: no limit
	case mib < 64:
		return 0, false, fmt.Errorf("--%s %d: below 64 MiB a node's live heap alone would not fit, and the collector would run without pause", FlagMemoryLimit, mib)
	}
	return mib << 20, true, nil
}

// applyMemoryLimit sets the runtime's soft memory limit from the start
// flag (or its environment variable) and returns it (-1: none set here).
func applyMemoryLimit(v *viper.Viper) (int64, error) {
	limit, ok, err := memoryLimit(v, os.Getenv("GOMEMLIMIT"))
	if err != nil || !ok {
		return -1, err
	}
	if limit < 0 {
		debug.SetMemoryLimit(1<<63 - 1)
		return -1, nil
	}
	debug.SetMemoryLimit(limit)
	return limit, nil
}
