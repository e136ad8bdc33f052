//go:build bench

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/parleynet/parley/internal/localnet"
)

// soakCLI runs the parley and parleyd binaries against the busy node, as
// a person at a shell would: the load does not depend on the client
// packages' Go API.
type soakCLI struct {
	parley, parleyd string
	rpc, chainID    string
	keyring         string
	dir, logs       string   // client homes; their sessions' logs
	env             []string // PARLEY_* for every parley command
}

// soakDevice is one device with its own client home and paying account.
type soakDevice struct {
	user, account, home string
}

// soakMeeting is one meeting of the load: a leader that runs throughout
// and a member that joins and leaves in turn.
type soakMeeting struct {
	id           string
	lead, member soakDevice
	leadLog      string
	memberLog    string

	mu           sync.Mutex
	joins        int    // member sessions that received the 2-member epoch
	failed       int    // member sessions that did not
	leaderStarts int    // times the leader's session was started
	lastFailure  string // the tail of the last failed join's output
}

func soakNewCLI(ctx context.Context, bin localnet.Binaries, busy *soakNode, dir, logs string) (*soakCLI, error) {
	nd := busy.net.Node(0)
	c := &soakCLI{
		parley: bin.Parley, parleyd: bin.Parleyd,
		rpc: nd.RPC, chainID: busy.net.ChainID(), keyring: busy.net.KeyringDir(), dir: dir, logs: logs,
	}
	c.env = []string{
		"PARLEY_NODE=" + nd.RPC,
		"PARLEY_MAILBOX=" + nd.Mailbox,
		"PARLEY_CHAIN_ID=" + c.chainID,
		"PARLEY_KEYRING_DIR=" + c.keyring,
		"PARLEY_KEYRING_BACKEND=test",
		"PARLEY_PASSPHRASE=soak passphrase",
	}
	// The busy node is the benchmark's own: trust its newest header, and
	// give every client home that anchor.
	trust := filepath.Join(dir, "trust")
	if _, err := c.parleyCmd(ctx, trust, "trust", "init", "--yes"); err != nil {
		return nil, err
	}
	anchor, err := c.parleyCmd(ctx, trust, "trust", "show", "--anchor")
	if err != nil {
		return nil, err
	}
	c.env = append(c.env, "PARLEY_TRUST="+strings.TrimSpace(anchor))
	return c, nil
}

// parleyCmd runs parley --home home args... to completion and returns its
// standard output; a failure carries its standard error.
func (c *soakCLI) parleyCmd(ctx context.Context, home string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.parley, append([]string{"--home", home}, args...)...)
	cmd.Env = append(os.Environ(), c.env...)
	return soakOutput(cmd)
}

func (c *soakCLI) parleydCmd(ctx context.Context, args ...string) (string, error) {
	return soakOutput(exec.CommandContext(ctx, c.parleyd, args...))
}

// keyringFlags point parleyd at the network's test keyring.
func (c *soakCLI) keyringFlags() []string {
	return []string{"--keyring-backend", "test", "--keyring-dir", c.keyring}
}

// soakOutput runs cmd and returns its standard output; a failure carries
// the last lines of its standard error.
func soakOutput(cmd *exec.Cmd) (string, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args[1:], " "), err, soakLastLines(errb.String(), 3))
	}
	return out.String(), nil
}

// setUp creates n meetings, each with a leader and a member device on
// funded accounts of their own, registered on chain.
func (c *soakCLI) setUp(ctx context.Context, n int, meetingFor time.Duration) ([]*soakMeeting, error) {
	ms := make([]*soakMeeting, n)
	var devices []*soakDevice
	for i := range ms {
		m := &soakMeeting{
			lead:      soakDevice{user: fmt.Sprintf("soak-lead-%02d", i)},
			member:    soakDevice{user: fmt.Sprintf("soak-memb-%02d", i)},
			leadLog:   filepath.Join(c.logs, fmt.Sprintf("lead-%02d.log", i)),
			memberLog: filepath.Join(c.logs, fmt.Sprintf("memb-%02d.log", i)),
		}
		for _, d := range []*soakDevice{&m.lead, &m.member} {
			d.account, d.home = d.user, filepath.Join(c.dir, d.user)
			devices = append(devices, d)
		}
		ms[i] = m
	}
	if err := c.fund(ctx, devices); err != nil {
		return nil, fmt.Errorf("funding the devices' accounts: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, d := range devices {
		g.Go(func() error {
			if _, err := c.parleyCmd(gctx, d.home, "device", "init", "--user", d.user, "--device", "d"); err != nil {
				return err
			}
			_, err := c.parleyCmd(gctx, d.home, "identity", "register", "--user", d.user, "--device", "d", "--from", d.account)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	idRE := regexp.MustCompile(`(?m)^[0-9a-f]{32}$`)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, m := range ms {
		g.Go(func() error {
			out, err := c.parleyCmd(gctx, m.lead.home, "meeting", "create", "--user", m.lead.user, "--device", "d",
				"--from", m.lead.account, "--duration", meetingFor.String())
			if err != nil {
				return err
			}
			if m.id = idRE.FindString(out); m.id == "" {
				return fmt.Errorf("meeting create printed no meeting ID: %q", out)
			}
			return nil
		})
	}
	return ms, g.Wait()
}

// fund adds an account per device to the network's test keyring and funds
// them all from alice in one multi-send.
func (c *soakCLI) fund(ctx context.Context, devices []*soakDevice) error {
	args := []string{"tx", "bank", "multi-send", "alice"}
	for _, d := range devices {
		out, err := c.parleydCmd(ctx, append([]string{"keys", "add", d.account, "--output", "json"}, c.keyringFlags()...)...)
		if err != nil {
			return err
		}
		var key struct{ Address string }
		if err := json.Unmarshal([]byte(out), &key); err != nil || key.Address == "" {
			return fmt.Errorf("keys add %s: no address in %q", d.account, out)
		}
		args = append(args, key.Address)
	}
	args = append(args, "1000000000uparley", "--chain-id", c.chainID, "--node", c.rpc,
		"--gas", "4000000", "--yes", "--output", "json")
	args = append(args, c.keyringFlags()...)
	out, err := c.parleydCmd(ctx, args...)
	if err != nil {
		return err
	}
	var res struct {
		TxHash string `json:"txhash"`
		Code   int    `json:"code"`
		RawLog string `json:"raw_log"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.TxHash == "" {
		return fmt.Errorf("multi-send: unexpected output %q", out)
	}
	if res.Code != 0 {
		return fmt.Errorf("multi-send refused: code %d: %s", res.Code, res.RawLog)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := c.parleydCmd(ctx, "query", "tx", res.TxHash, "--node", c.rpc, "--output", "json")
		if err == nil {
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				return fmt.Errorf("query tx: %w", err)
			}
			if res.Code != 0 {
				return fmt.Errorf("multi-send failed in its block: code %d: %s", res.Code, res.RawLog)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("multi-send %s not in a block within a minute: %w", res.TxHash, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// lead runs the leader's session until ctx ends, starting it again should
// it stop before.
func (c *soakCLI) lead(ctx context.Context, m *soakMeeting) {
	for ctx.Err() == nil {
		m.mu.Lock()
		m.leaderStarts++
		m.mu.Unlock()
		_ = c.session(ctx, m.lead, m.leadLog, "meeting", "run", m.id, "--rotate", soakRotate.String())
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

var soakJoinedRE = regexp.MustCompile(`epoch \d+: 2 members`)

// cycle has the member join for soakHold and leave, over and over, until
// ctx ends. A join counts when the member's session received the epoch
// that holds both devices.
func (c *soakCLI) cycle(ctx context.Context, m *soakMeeting) {
	for ctx.Err() == nil {
		start, _ := os.Stat(m.memberLog)
		err := c.session(ctx, m.member, m.memberLog, "meeting", "join", m.id, "--duration", soakHold.String())
		if ctx.Err() != nil {
			return
		}
		out := soakTail(m.memberLog, start)
		m.mu.Lock()
		if soakJoinedRE.MatchString(out) {
			m.joins++
		} else {
			m.failed++
			m.lastFailure = fmt.Sprintf("%v; output: %s", err, soakLastLines(out, 4))
		}
		m.mu.Unlock()
		// Leave even after a failed join: the request may have been
		// admitted after all. Then wait for the leader's epoch without
		// the member before asking again, as a person would see the
		// call end before dialling back in.
		_, _ = c.parleyCmd(ctx, m.member.home, "meeting", "leave", m.id, "--user", m.member.user, "--device", "d", "--from", m.member.account)
		c.waitOut(ctx, m)
		select {
		case <-ctx.Done():
		case <-time.After(soakPause):
		}
	}
}

// waitOut waits (up to a minute) until the meeting's proven roster no
// longer lists the member.
func (c *soakCLI) waitOut(ctx context.Context, m *soakMeeting) {
	listed := regexp.MustCompile(`\] user +` + regexp.QuoteMeta(m.member.user) + `\s`)
	deadline := time.Now().Add(time.Minute)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		out, err := c.parleyCmd(ctx, m.member.home, "meeting", "status", m.id)
		if err == nil && !listed.MatchString(out) {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// session runs a parley session command of device d with its output
// appended to logPath, until it ends or ctx does (then with SIGINT, as
// Ctrl-C would).
func (c *soakCLI) session(ctx context.Context, d soakDevice, logPath string, args ...string) error {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	args = append([]string{"--home", d.home}, args...)
	args = append(args, "--user", d.user, "--device", "d", "--from", d.account)
	fmt.Fprintf(f, "== %s parley %s\n", time.Now().Format("15:04:05.000"), strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, c.parley, args...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	err = cmd.Run()
	fmt.Fprintf(f, "== %s exit: %v\n", time.Now().Format("15:04:05.000"), err)
	return err
}

// soakTail is what was appended to path since it had the size in before
// (the whole file if before is nil).
func soakTail(path string, before os.FileInfo) string {
	bz, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if before != nil && before.Size() <= int64(len(bz)) {
		bz = bz[before.Size():]
	}
	return string(bz)
}

func soakLastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

var soakEpochRE = regexp.MustCompile(`epoch (\d+):`)

// epochs is the highest epoch the leader's session reported.
func (m *soakMeeting) epochs() int {
	bz, err := os.ReadFile(m.leadLog)
	if err != nil {
		return 0
	}
	top := 0
	for _, sm := range soakEpochRE.FindAllSubmatch(bz, -1) {
		if e, err := strconv.Atoi(string(sm[1])); err == nil && e > top {
			top = e
		}
	}
	return top
}

// logProblems logs, for the record, the problems the sessions printed
// (grouped with their numbers blanked), each meeting's failed joins and
// leader restarts.
func (c *soakCLI) logProblems(b *testing.B, ms []*soakMeeting) {
	digits := regexp.MustCompile(`[0-9a-f]{8,}|\d+`)
	kinds := map[string]int{}
	total := 0
	for _, m := range ms {
		for _, p := range []string{m.leadLog, m.memberLog} {
			if err := soakScan(p, func(line string) {
				if _, rest, ok := strings.Cut(line, "problem "); ok {
					total++
					kinds[digits.ReplaceAllString(rest, "N")]++
				}
			}); err != nil && !errors.Is(err, os.ErrNotExist) {
				b.Logf("soak: reading %s: %v", p, err)
			}
		}
		m.mu.Lock()
		if m.failed > 0 || m.leaderStarts > 1 {
			b.Logf("soak: meeting %s: %d joins, %d failed (last: %s), leader started %d times",
				m.id, m.joins, m.failed, m.lastFailure, m.leaderStarts)
		}
		m.mu.Unlock()
	}
	if total == 0 {
		return
	}
	list := make([]string, 0, len(kinds))
	for k := range kinds {
		list = append(list, k)
	}
	sort.Slice(list, func(i, j int) bool { return kinds[list[i]] > kinds[list[j]] })
	b.Logf("soak: the sessions printed %d problems; the most common:", total)
	for _, k := range list[:min(len(list), 5)] {
		b.Logf("  %d× %.300s", kinds[k], k)
	}
}

func soakScan(path string, line func(string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line(sc.Text())
	}
	return sc.Err()
}
