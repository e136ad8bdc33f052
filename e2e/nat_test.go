package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The NAT test's internet, all inside network namespaces this test makes
// and removes: a "public" namespace with a bridge (198.51.100.0/24,
// TEST-NET-2) where the validator runs with its TURN relay on
// 198.51.100.1; two NAT routers on the bridge (198.51.100.2 and .3) that
// masquerade (nftables) for a LAN each; and a member's namespace on each
// LAN (10.1.0.2 and 10.2.0.2). No interface of the test's own namespace
// is touched, so its traffic never leaves these namespaces.
const (
	natValidatorIP = "198.51.100.1"
	natChainID     = "parley-natlab"
)

// natLab is the test's namespaces.
type natLab struct {
	t      *testing.T
	prefix string
	made   []string // namespaces, in the order made
}

func (l *natLab) ns(role string) string { return l.prefix + "-" + role }

// ip runs the ip command, failing the test on error.
func (l *natLab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// in runs a command inside namespace role.
func (l *natLab) in(role string, name string, args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", l.ns(role), name}, args...)...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("in %s: %s %s: %v\n%s", role, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newNATLab builds the namespaces, or skips the test where the kernel (or
// the lack of root) refuses network namespaces.
func newNATLab(t *testing.T) *natLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the NAT test builds network namespaces, veth pairs and nftables rules: run it as root")
	}
	l := &natLab{t: t, prefix: fmt.Sprintf("pn%d", os.Getpid()%100000)}
	probe := l.ns("probe")
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("the kernel refuses network namespaces here (ip netns add: %v: %s)", err, bytes.TrimSpace(out))
	}
	_ = exec.Command("ip", "netns", "del", probe).Run()
	if out, err := exec.Command(filepath.Join(repoRoot(t), "scripts/install-nftables.sh")).CombinedOutput(); err != nil {
		t.Fatalf("installing nftables: %v\n%s", err, out)
	}
	t.Cleanup(l.remove)
	for _, role := range []string{"pub", "nata", "natb", "a", "b"} {
		l.ip("netns", "add", l.ns(role))
		l.made = append(l.made, l.ns(role))
		l.ip("-n", l.ns(role), "link", "set", "lo", "up")
	}
	pub := l.ns("pub")
	l.ip("-n", pub, "link", "add", "br0", "type", "bridge")
	l.ip("-n", pub, "addr", "add", natValidatorIP+"/24", "dev", "br0")
	l.ip("-n", pub, "link", "set", "br0", "up")
	for i, side := range []string{"a", "b"} {
		nat, lan := l.ns("nat"+side), l.ns(side)
		port := fmt.Sprintf("%sw%s", l.prefix, side) // the NAT's cable into the bridge
		l.ip("link", "add", port, "type", "veth", "peer", "name", "wan", "netns", nat)
		l.ip("link", "set", port, "netns", pub)
		l.ip("-n", pub, "link", "set", port, "master", "br0")
		l.ip("-n", pub, "link", "set", port, "up")
		l.ip("-n", nat, "addr", "add", fmt.Sprintf("198.51.100.%d/24", i+2), "dev", "wan")
		l.ip("-n", nat, "link", "set", "wan", "up")
		l.ip("-n", nat, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", lan)
		l.ip("-n", nat, "addr", "add", fmt.Sprintf("10.%d.0.1/24", i+1), "dev", "lan")
		l.ip("-n", nat, "link", "set", "lan", "up")
		l.in("nat"+side, "sysctl", "-qw", "net.ipv4.ip_forward=1")
		nft := exec.Command("ip", "netns", "exec", nat, "nft", "-f", "-")
		nft.Stdin = strings.NewReader(`table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade
  }
}
`)
		if out, err := nft.CombinedOutput(); err != nil {
			t.Fatalf("nft in %s: %v\n%s", nat, err, out)
		}
		// A secondary address survives when the first is deleted: the
		// address change below depends on it.
		l.in(side, "sysctl", "-qw", "net.ipv4.conf.all.promote_secondaries=1")
		l.ip("-n", lan, "addr", "add", fmt.Sprintf("10.%d.0.2/24", i+1), "dev", "eth0")
		l.ip("-n", lan, "link", "set", "eth0", "up")
		l.ip("-n", lan, "route", "add", "default", "via", fmt.Sprintf("10.%d.0.1", i+1))
	}
	return l
}

// remove deletes every namespace the test made; the veth pairs and rules
// go with them.
func (l *natLab) remove() {
	for i := len(l.made) - 1; i >= 0; i-- {
		if out, err := exec.Command("ip", "netns", "del", l.made[i]).CombinedOutput(); err != nil {
			l.t.Errorf("removing namespace %s: %v %s", l.made[i], err, out)
		}
	}
}

// natProc is a process running in a namespace, its output kept.
type natProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (l *natLab) start(role string, env []string, name string, args ...string) *natProc {
	l.t.Helper()
	p := &natProc{done: make(chan error, 1)}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", l.ns(role), name}, args...)...)
	p.cmd.Env = env
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(r)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			p.mu.Lock()
			p.out.WriteString(s.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() {
		err := p.cmd.Wait()
		_ = w.Close()
		p.done <- err
	}()
	l.t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *natProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// peerLine is the last status line a parley call printed about a peer.
type peerLine struct {
	state      string
	decrypted  int
	path       string
	est        int
	restarts   int
	reconnects int
}

var peerLineRE = regexp.MustCompile(`(?m)^\s+(\S+)\s+(\S+)\s+(\S+)\s+epoch.*decrypted\s+(\d+).*rtt \S+\s+(.*?)\s+est (\d+) kbit/s\s+restarts (\d+)\s+reconnects (\d+)\s*$`)

func (p *natProc) peer(user string) (peerLine, bool) {
	var last peerLine
	found := false
	for _, m := range peerLineRE.FindAllStringSubmatch(p.output(), -1) {
		if m[1] != user {
			continue
		}
		dec, _ := strconv.Atoi(m[4])
		est, _ := strconv.Atoi(m[6])
		rs, _ := strconv.Atoi(m[7])
		rc, _ := strconv.Atoi(m[8])
		last, found = peerLine{state: m[3], decrypted: dec, path: m[5], est: est, restarts: rs, reconnects: rc}, true
	}
	return last, found
}

func natWait(t *testing.T, d time.Duration, what string, procs []*natProc, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			var sb strings.Builder
			for _, p := range procs {
				out := p.output()
				if len(out) > 4000 {
					out = out[len(out)-4000:]
				}
				sb.WriteString("\n--- output:\n" + out)
			}
			t.Fatalf("no %s within %v%s", what, d, sb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// TestCallAcrossNATs runs a validator with its TURN relay on a public
// network and two `parley call` devices, each behind its own NAT (kernel
// masquerade), in network namespaces. Both decrypt each other's media;
// then alice's device changes address mid-call (Wi-Fi to cable: a new
// address on its LAN, the old one gone), and the call recovers: alice's
// engine sees the change and replaces the session at once (why not an ICE
// restart: client/call's addrsChanged) — the time is measured and
// printed, not asserted; then alice's
// uplink is held to 300 kbit/s (tc tbf) and the call goes on under it.
func TestCallAcrossNATs(t *testing.T) {
	lab := newNATLab(t)
	root := repoRoot(t)
	run(t, root, nil, "make", "build")
	parleyd, parley := filepath.Join(root, "build/parleyd"), filepath.Join(root, "build/parley")
	home := t.TempDir()
	chainHome := filepath.Join(home, "chain")
	env := append(os.Environ(), goEnv(t)...)

	// The chain, as scripts/localnet.sh makes it, listening on the public
	// bridge.
	pd := func(args ...string) string {
		t.Helper()
		return run(t, root, env, parleyd, append([]string{"--home", chainHome}, args...)...)
	}
	pd("init", "natlab", "--chain-id", natChainID, "--default-denom", "uparley")
	for _, acct := range []string{"validator", "alice", "bob"} {
		pd("keys", "add", acct, "--keyring-backend", "test")
		amount := "100000000000uparley"
		if acct == "validator" {
			amount = "1000000000000uparley"
		}
		pd("genesis", "add-genesis-account", acct, amount, "--keyring-backend", "test")
	}
	pd("genesis", "gentx", "validator", "100000000000uparley", "--chain-id", natChainID, "--keyring-backend", "test")
	pd("genesis", "collect-gentxs")
	editFile(t, filepath.Join(chainHome, "config/config.toml"), map[string]string{
		`(?m)^timeout_commit = .*`:             `timeout_commit = "300ms"`,
		`(?m)^timeout_propose = .*`:            `timeout_propose = "1s"`,
		`(?m)^laddr = "tcp://127.0.0.1:26657"`: `laddr = "tcp://` + natValidatorIP + `:26657"`,
		`(?m)^laddr = "tcp://0.0.0.0:26656"`:   `laddr = "tcp://` + natValidatorIP + `:26656"`,
		`(?m)^pprof_laddr = .*`:                `pprof_laddr = ""`,
		`(?m)^addr_book_strict = .*`:           `addr_book_strict = false`,
	})
	editFile(t, filepath.Join(chainHome, "config/app.toml"), map[string]string{
		`(?m)^address = "localhost:9090"`: `address = "` + natValidatorIP + `:9090"`,
	})
	node := lab.start("pub", env, parleyd, "start", "--home", chainHome,
		"--mailbox.address", natValidatorIP+":26680",
		"--turn.enable", "--turn.udp", natValidatorIP+":3478", "--turn.tcp", natValidatorIP+":3478",
		"--turn.relay-ports", "50000-50999")
	natWait(t, 30*time.Second, "first block", []*natProc{node}, func() bool {
		out, err := exec.Command("ip", "netns", "exec", lab.ns("pub"), parleyd, "status", "--node", "tcp://"+natValidatorIP+":26657").CombinedOutput()
		return err == nil && regexp.MustCompile(`"latest_block_height":"[1-9]`).Match(out)
	})
	if !strings.Contains(node.output(), "TURN relay serving") {
		t.Fatalf("the node did not start its relay:\n%s", node.output())
	}

	// The members' clients, each in its LAN, trusting the validator.
	cenv := append(append([]string(nil), env...),
		"PARLEY_NODE=tcp://"+natValidatorIP+":26657", "PARLEY_CHAIN_ID="+natChainID,
		"PARLEY_KEYRING_DIR="+chainHome, "PARLEY_KEYRING_BACKEND=test", "PARLEY_MAILBOX="+natValidatorIP+":26680")
	cl := func(role string, args ...string) string {
		t.Helper()
		c := exec.Command("ip", append([]string{"netns", "exec", lab.ns(role), parley}, args...)...)
		c.Env = cenv
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("parley %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	trustHome := filepath.Join(home, "trust")
	cl("a", "--home", trustHome, "trust", "init", "--yes")
	cenv = append(cenv, "PARLEY_TRUST="+strings.TrimSpace(cl("a", "--home", trustHome, "trust", "show", "--anchor")))
	aliceHome, bobHome := filepath.Join(home, "alice"), filepath.Join(home, "bob")
	for _, d := range []struct{ role, home, user, device string }{{"a", aliceHome, "alice", "laptop"}, {"b", bobHome, "bob", "phone"}} {
		cl(d.role, "--home", d.home, "--from", d.user, "device", "init", "--user", d.user, "--device", d.device, "--unencrypted")
		cl(d.role, "--home", d.home, "--from", d.user, "identity", "register", "--user", d.user, "--device", d.device)
	}

	callArgs := []string{"--duration", "5m", "--status-every", "250ms", "--relays", "1"}
	cenv = append(cenv, "PION_LOG_INFO=parley-call") // the engine's own steps, for a failure's output
	alice := lab.start("a", cenv, parley, append([]string{"--home", aliceHome, "--from", "alice", "call", "--create", "--user", "alice", "--device", "laptop"}, callArgs...)...)
	var meetingID string
	natWait(t, 60*time.Second, "the meeting", []*natProc{alice}, func() bool {
		m := regexp.MustCompile(`created meeting ([0-9a-f]{32})`).FindStringSubmatch(alice.output())
		if m != nil {
			meetingID = m[1]
		}
		return m != nil
	})
	bob := lab.start("b", cenv, parley, append([]string{"--home", bobHome, "--from", "bob", "call", meetingID, "--user", "bob", "--device", "phone"}, callArgs...)...)
	procs := []*natProc{alice, bob, node}
	decrypting := func(p *natProc, peer string, n int) func() bool {
		return func() bool { l, ok := p.peer(peer); return ok && l.decrypted >= n }
	}
	natWait(t, 120*time.Second, "media both ways", procs, func() bool {
		return decrypting(alice, "bob", 100)() && decrypting(bob, "alice", 100)()
	})
	la, _ := alice.peer("bob")
	lb, _ := bob.peer("alice")
	t.Logf("both decrypt: alice → bob path %s, bob → alice path %s", la.path, lb.path)
	for _, l := range []peerLine{la, lb} {
		if !strings.HasPrefix(l.path, "direct") && !strings.HasPrefix(l.path, "relayed") {
			t.Errorf("status line path %q", l.path)
		}
	}

	// Wi-Fi to cable: alice's device gets 10.1.0.3 and loses 10.1.0.2.
	a0, b0 := la.decrypted, lb.decrypted
	changed := time.Now()
	lab.ip("-n", lab.ns("a"), "addr", "add", "10.1.0.3/24", "dev", "eth0")
	lab.ip("-n", lab.ns("a"), "addr", "del", "10.1.0.2/24", "dev", "eth0")
	lab.ip("-n", lab.ns("a"), "route", "replace", "default", "via", "10.1.0.1")
	// Recovered when each side decrypts 20 frames (a quarter second of
	// video and audio) beyond what it had when the address moved.
	var tAlice, tBob time.Duration
	natWait(t, 60*time.Second, "the call to recover after alice's address changed", procs, func() bool {
		if l, _ := alice.peer("bob"); tAlice == 0 && l.decrypted >= a0+20 {
			tAlice = time.Since(changed)
		}
		if l, _ := bob.peer("alice"); tBob == 0 && l.decrypted >= b0+20 {
			tBob = time.Since(changed)
		}
		return tAlice > 0 && tBob > 0
	})
	la, _ = alice.peer("bob")
	lb, _ = bob.peer("alice")
	t.Logf("address change: alice decrypts bob again %v after it, bob alice %v (goal 5 s); alice replaced the session %d times, path now %s",
		tAlice.Round(10*time.Millisecond), tBob.Round(10*time.Millisecond), la.reconnects, la.path)
	// Alice's engine must have seen its addresses change and replaced the
	// session itself, not waited for the old one to fail.
	if la.reconnects == 0 {
		t.Errorf("alice's engine did not replace the session when its address changed: alice %+v, bob %+v\nalice:\n%s\nbob:\n%s", la, lb, tail(alice.output(), 6000), tail(bob.output(), 6000))
	}

	// A thin uplink: alice's NAT sends at most 300 kbit/s.
	lab.in("nata", "tc", "qdisc", "add", "dev", "wan", "root", "tbf", "rate", "300kbit", "burst", "16kbit", "latency", "400ms")
	squeezed := time.Now()
	bBefore, _ := bob.peer("alice")
	natWait(t, 60*time.Second, "alice's estimate for bob to follow the 300 kbit/s link", procs, func() bool {
		l, _ := alice.peer("bob")
		return l.est > 0 && l.est <= 300
	})
	estDown := time.Since(squeezed)
	time.Sleep(5 * time.Second)
	la, _ = alice.peer("bob")
	lb, _ = bob.peer("alice")
	if lb.decrypted <= bBefore.decrypted+50 {
		t.Errorf("bob decrypted %d frames of alice in the squeeze", lb.decrypted-bBefore.decrypted)
	}
	lab.in("nata", "tc", "qdisc", "del", "dev", "wan", "root")
	cleared := time.Now()
	natWait(t, 90*time.Second, "alice's estimate to rise after the link cleared", procs, func() bool {
		l, _ := alice.peer("bob")
		return l.est >= 450
	})
	t.Logf("300 kbit/s uplink: alice's estimate for bob under it %v after the squeeze (%d kbit/s 5 s later, bob decrypting %d frames meanwhile); back above 450 kbit/s %v after it cleared",
		estDown.Round(100*time.Millisecond), la.est, lb.decrypted-bBefore.decrypted, time.Since(cleared).Round(100*time.Millisecond))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// editFile applies regexp replacements to a file.
func editFile(t *testing.T, path string, edits map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for re, repl := range edits {
		r := regexp.MustCompile(re)
		if !r.Match(b) {
			t.Fatalf("%s: no line matches %s", path, re)
		}
		b = r.ReplaceAll(b, []byte(repl))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
