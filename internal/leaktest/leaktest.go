// Package leaktest finds goroutines a test left running: one checker for
// the call engine's tests (client/call/calltest) and the relay's
// (node/sfu/sfutest), which may not import each other.
package leaktest

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leakWait is how long Check waits for goroutines to end.
const leakWait = 10 * time.Second

// Check records the running goroutines; the returned function
// fails tb if goroutines started since are still running after a grace
// period, and prints their stacks. Use as defer Check(t)().
func Check(tb testing.TB) func() {
	tb.Helper()
	before := goroutines()
	return func() {
		tb.Helper()
		deadline := time.Now().Add(leakWait)
		for {
			var leaked []string
			for id, stack := range goroutines() {
				if _, ok := before[id]; !ok && !harmless(stack) {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				tb.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// harmless reports goroutines that run a test function (other tests,
// subtests), not code under test.
func harmless(stack string) bool {
	return strings.Contains(stack, "\ntesting.tRunner(")
}

// goroutines returns every goroutine's stack by ID.
func goroutines() map[uint64]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := make(map[uint64]string)
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		head, _, _ := bytes.Cut(g, []byte(" ["))
		id, err := strconv.ParseUint(string(bytes.TrimPrefix(head, []byte("goroutine "))), 10, 64)
		if err == nil {
			out[id] = string(g)
		}
	}
	return out
}
