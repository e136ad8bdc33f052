package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMakeDemo runs `make demo` — real parleyd and parley processes on
// loopback, three participants, a removal and rekey — and checks that it
// passes its own checks and says so.
func TestMakeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs a chain and a call")
	}
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "demo")
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), goEnv(t)...), "TMPDIR="+t.TempDir(), "LOCALNET_PORT_BASE="+itoa(freePortBase(t)))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	if err != nil {
		t.Fatalf("make demo failed: %v\n%s", err, text)
	}
	for _, want := range []string{
		"VERDICT: PASS",
		"carol after removal: 0 frames decrypted; fails:",
		"join latency (request sent → first decrypted frame)",
		"rekey latency",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("make demo output lacks %q\n%s", want, text)
		}
	}
}

func itoa(n int) string {
	var b []byte
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
