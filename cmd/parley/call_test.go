package main

import (
	"testing"

	"github.com/parleynet/parley/client/call"
)

// TestCallSources: the synthetic camera is simulcast when a relay may
// carry the call, one stream on a mesh alone; an IVF file is one stream
// either way.
func TestCallSources(t *testing.T) {
	for _, tc := range []struct {
		name      string
		video     string
		relay     bool
		simulcast bool
	}{
		{"synthetic, relay", "", true, true},
		{"synthetic, mesh only", "", false, false},
		{"IVF file, relay", "../../client/call/testdata/clip.ivf", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, a, err := callSources(tc.video, "", tc.relay)
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := v.(interface{ Close() error }); ok {
				defer c.Close()
			}
			if _, ok := v.(call.SimulcastSource); ok != tc.simulcast {
				t.Errorf("camera %T: simulcast %v, want %v", v, ok, tc.simulcast)
			}
			if a == nil {
				t.Error("no audio source")
			}
		})
	}
}
