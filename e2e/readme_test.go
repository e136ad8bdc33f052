package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository root, one level above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// quickstart returns the shell commands between the README's quickstart
// markers, so the test runs exactly what a person is told to run.
func quickstart(t *testing.T, root string) string {
	t.Helper()
	bz, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- quickstart:begin -->\\s*```bash\\n(.*?)```\\s*<!-- quickstart:end -->").FindSubmatch(bz)
	if m == nil {
		t.Fatal("README.md has no quickstart block")
	}
	return string(m[1])
}

// freePortBase finds a base port whose localnet offsets (+17, +56, +57, +80, +90) are free.
func freePortBase(t *testing.T) int {
	t.Helper()
	for base := 30000 + os.Getpid()%2000*10; base < 60000; base += 100 {
		ok := true
		for _, off := range []int{17, 56, 57, 80, 90} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+off))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

// TestReadmeQuickstart runs the README's quick start with the real
// binaries against a real localnet process and checks what it printed.
func TestReadmeQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs a localnet")
	}
	root := repoRoot(t)
	home := t.TempDir()
	script := "set -euo pipefail\n" + quickstart(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = root
	// HOME moves to a temporary directory (the quick start writes under ~),
	// but Go's caches stay where they are, or `make localnet` would
	// download and build everything from scratch.
	cmd.Env = append(os.Environ(), goEnv(t)...)
	cmd.Env = append(cmd.Env,
		"HOME="+home,
		"LOCALNET_HOME="+filepath.Join(home, "localnet"),
		fmt.Sprintf("LOCALNET_PORT_BASE=%d", freePortBase(t)),
		"CHAIN_ID=parley-readme",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Cleanup(func() {
		stop := exec.Command("scripts/localnet.sh", "stop")
		stop.Dir = root
		stop.Env = append(os.Environ(), "LOCALNET_HOME="+filepath.Join(home, "localnet"))
		_ = stop.Run()
	})
	text := out.String()
	if err != nil {
		t.Fatalf("quick start failed: %v\n%s", err, text)
	}
	// Alice's and Bob's sessions printed the same security code for the
	// epoch that holds both of them.
	codes := map[string]map[string]bool{}
	for _, m := range regexp.MustCompile(`epoch (\d+): 2 members, security code (\d{5}(?: \d{5}){5})`).FindAllStringSubmatch(text, -1) {
		if codes[m[1]] == nil {
			codes[m[1]] = map[string]bool{}
		}
		codes[m[1]][m[2]] = true
	}
	shared := false
	for epoch, cs := range codes {
		if len(cs) != 1 {
			t.Errorf("epoch %s: sessions printed different security codes %v", epoch, cs)
		}
		shared = true
	}
	if !shared || len(regexp.MustCompile(`epoch \d+: 2 members, security code`).FindAllString(text, -1)) < 2 {
		t.Errorf("want both sessions to print the 2-member epoch's security code\n%s", text)
	}
	for _, want := range []string{
		"registered alice with device laptop",
		"added device phone to alice (approved by laptop)",
		"audit OK: every active device is known",
		"revoked device phone of alice (signed by laptop)",
		"REVOKED at height",
		"bob/phone now leads meeting",
		"#2  height",
		"committed epoch 1 of",
		"[1] bob/phone",
		"ended",
		"localnet stopped",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("quick start output lacks %q\n%s", want, text)
		}
	}
}

// goEnv pins Go's module and build caches to their current locations.
func goEnv(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOPATH", "GOMODCACHE", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	v := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(v) != 3 {
		t.Fatalf("go env printed %q", out)
	}
	return []string{"GOPATH=" + v[0], "GOMODCACHE=" + v[1], "GOCACHE=" + v[2]}
}
