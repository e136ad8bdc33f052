// Command benchtable reads the output of `go test -bench` (as scripts/bench.sh
// collects it) and prints Parley's performance table in Markdown: each
// figure beside its reference from the same run where one exists. Rows
// whose benchmarks did not run print "not run". Every benchmark line it
// read follows, in full, under "All benchmark lines".
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// results maps a benchmark name (without the -GOMAXPROCS suffix) to its
// metrics by unit ("ns/op", "tx/s", ...).
type results map[string]map[string]float64

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

func parse(r io.Reader) (results, []string) {
	res := results{}
	var lines []string
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		m := lineRE.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		lines = append(lines, s.Text())
		f := strings.Fields(m[3])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				metrics[f[i+1]] = v
			}
		}
		res[m[1]] = metrics
	}
	return res, lines
}

// get returns a metric of the first benchmark whose name ends with one of
// names.
func (r results) get(unit string, names ...string) (float64, bool) {
	for _, n := range names {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == n || strings.HasSuffix(k, n) {
				if v, ok := r[k][unit]; ok {
					return v, true
				}
			}
		}
	}
	return 0, false
}

type row struct{ what, figure, reference, ratio string }

func main() {
	res, lines := parse(os.Stdin)
	var rows []row
	add := func(what, figure, ref, ratio string) { rows = append(rows, row{what, figure, ref, ratio}) }
	fmtv := func(v float64, ok bool, unit string, prec int) string {
		if !ok {
			return "not run"
		}
		return strconv.FormatFloat(v, 'f', prec, 64) + " " + unit
	}
	ratio := func(a float64, aok bool, b float64, bok bool) string {
		if !aok || !bok || b == 0 {
			return ""
		}
		return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
	}

	// Chain throughput, 1 and 4 validators.
	for _, vals := range []string{"1", "4"} {
		name := "BenchmarkThroughput/validators=" + vals
		bank, bok := res.get("bank-tx/s", name)
		bt, btok := res.get("block-ms", name)
		n, nok := res.get("txs/kind", name)
		join, jok := res.get("join-tx/s", name)
		commit, cok := res.get("commit-tx/s", name)
		ref := "bank send " + fmtv(bank, bok, "tx/s", 1)
		if btok && nok {
			ref += fmt.Sprintf(" (block time %.0f ms, %.0f txs of each kind)", bt, n)
		}
		add("chain throughput, "+vals+" validator(s): MsgRequestJoin", fmtv(join, jok, "tx/s", 1), ref, ratio(join, jok, bank, bok))
		add("chain throughput, "+vals+" validator(s): MsgCommitEpoch", fmtv(commit, cok, "tx/s", 1), ref, ratio(commit, cok, bank, bok))
	}
	// Join and rekey latency, with verification on (and off on 4
	// validators, side by side: what proving every read costs).
	for _, c := range []struct{ n, verify string }{{"1", "on"}, {"4", "on"}, {"4", "off"}} {
		name := "BenchmarkJoinRekeyLatency/validators=" + c.n + "/verify=" + c.verify
		j50, ok1 := res.get("join-p50-ms", name)
		j95, ok2 := res.get("join-p95-ms", name)
		r50, ok3 := res.get("rekey-p50-ms", name)
		r95, ok4 := res.get("rekey-p95-ms", name)
		bt, okb := res.get("block-ms", name)
		runs, okr := res.get("runs", name)
		ref := ""
		if okb {
			ref = "block time " + fmtv(bt, okb, "ms", 0)
		}
		if iv, ok := res.get("interval-ms", name); ok {
			ref += " (measured interval " + fmtv(iv, ok, "ms", 0) + ")"
		}
		if okr {
			ref += fmt.Sprintf(", %.0f runs", runs)
		}
		jratio, rratio := "", ""
		if c.n == "4" && c.verify == "on" {
			off := "BenchmarkJoinRekeyLatency/validators=4/verify=off"
			oj, ook := res.get("join-p50-ms", off)
			or, orok := res.get("rekey-p50-ms", off)
			ref += "; verification off: join p50 " + fmtv(oj, ook, "ms", 0) + ", rekey p50 " + fmtv(or, orok, "ms", 0)
			jratio, rratio = ratio(j50, ok1, oj, ook), ratio(r50, ok3, or, orok)
		}
		what := c.n + " validator(s), verification " + c.verify
		add("join latency (request sent → first decrypted frame), "+what+", p50 / p95",
			fmtv(j50, ok1, "ms", 0)+" / "+fmtv(j95, ok2, "ms", 0), ref, jratio)
		add("rekey latency (removal committed → removed member locked out and the rest on the new epoch), "+what+", p50 / p95",
			fmtv(r50, ok3, "ms", 0)+" / "+fmtv(r95, ok4, "ms", 0), ref, rratio)
		if rej, ok := res.get("rejected-frames", name); ok {
			add("frames refused by any member over all joins and rekeys (key transitions), "+what, fmt.Sprintf("%.0f", rej), "goal 0", "")
		}
	}
	// Proven reads and light-client catch-up.
	{
		chk, cok := res.get("ns/op", "BenchmarkProvenRead/check")
		pr, pok := res.get("ns/op", "BenchmarkProvenRead/read-proven")
		ur, uok := res.get("ns/op", "BenchmarkProvenRead/read-unproven")
		add("proof check of one read (device record; IAVL + multistore proof)", fmtv(chk/1e3, cok, "µs", 1), "", "")
		add("proven read over loopback RPC (query with proof + check)", fmtv(pr/1e3, pok, "µs", 0), "unproven query "+fmtv(ur/1e3, uok, "µs", 0), ratio(pr, pok, ur, uok))
		for _, n := range []string{"10000", "100000"} {
			sk, sok := res.get("ns/op", "BenchmarkLightCatchUp/blocks="+n+"/skipping")
			sf, sfok := res.get("lightblocks-fetched", "BenchmarkLightCatchUp/blocks="+n+"/skipping")
			sq, qok := res.get("ns/op", "BenchmarkLightCatchUp/blocks="+n+"/sequential")
			ref := ""
			if qok {
				ref = "sequential verification " + fmtv(sq/1e6, qok, "ms", 0)
			}
			add("light-client catch-up over "+n+" blocks (skipping, 1 validator of 4 replaced every 2,000 blocks; light blocks fetched: "+fmtv(sf, sfok, "", 0)+")",
				fmtv(sk/1e6, sok, "ms", 1), ref, ratio(sk, sok, sq, qok))
		}
	}
	// 50 meetings of 3 on one node.
	{
		name := "BenchmarkMeetingsLoad"
		done, ok := res.get("meetings-done", name)
		j50, ok1 := res.get("join-p50-ms", name)
		j95, ok2 := res.get("join-p95-ms", name)
		idle, ok3 := res.get("rss-idle-MB", name)
		load, ok4 := res.get("rss-load-MB", name)
		add("50 meetings × 3 participants joining within 10 s, one node: meetings completed", fmtv(done, ok, "of 50", 0), "", "")
		add("… join latency p50 / p95", fmtv(j50, ok1, "ms", 0)+" / "+fmtv(j95, ok2, "ms", 0), "", "")
		add("node RSS under that load", fmtv(load, ok4, "MB", 0), "idle "+fmtv(idle, ok3, "MB", 0), ratio(load, ok4, idle, ok3))
	}
	// One meeting growing to 200 members on 4 validators.
	controlPlaneRows(res, add)
	// The memory soak: a node with 10 meetings cycling joins and rekeys,
	// and an idle one beside it; figures from the end of the warm-up (a
	// quarter of the soak) to the end.
	{
		name := "BenchmarkSoak"
		mins, okm := res.get("soak-min", name)
		joins, okj := res.get("joins", name)
		epochs, oke := res.get("epochs", name)
		load := "10 meetings cycling joins and rekeys"
		if okm && okj && oke {
			load = fmt.Sprintf("%s for %.0f min (%.0f joins, %.0f epochs)", load, mins, joins, epochs)
		}
		for _, node := range []struct{ key, what string }{{"busy", "node with " + load}, {"idle", "idle node beside it"}} {
			for _, m := range []struct {
				key, what, goal string
				prec            int
			}{
				{"rss", "RSS", "goal: flat after warm-up, under 300 MB", 0},
				{"heap", "live heap", "goal: flat after warm-up", 1},
			} {
				warm, ok1 := res.get(node.key+"-"+m.key+"-warm-MB", name)
				end, ok2 := res.get(node.key+"-"+m.key+"-end-MB", name)
				slope, ok3 := res.get(node.key+"-"+m.key+"-MB/h", name)
				add("soak, "+node.what+": "+m.what+" after warm-up → at the end (slope)",
					fmtv(warm, ok1, "MB", m.prec)+" → "+fmtv(end, ok2, "MB", m.prec)+" ("+fmtv(slope, ok3, "MB/h", 1)+")", m.goal, "")
			}
		}
	}
	// Calls across networks: set-up and relay CPU.
	reachRows(res, add)
	// Key wrap.
	{
		c, cok := res.get("ns/op", "BenchmarkSealAll1000Cached")
		u, uok := res.get("ns/op", "BenchmarkSealAll1000")
		bare, bok := res.get("ns/op", "BenchmarkBareHPKESeal1000Parallel")
		add("key wrap for 1,000 members (leader, keys parsed once)", fmtv(c/1e6, cok, "ms", 1), "bare parallel HPKE seals "+fmtv(bare/1e6, bok, "ms", 1), ratio(c, cok, bare, bok))
		add("key wrap for 1,000 members (keys parsed per call)", fmtv(u/1e6, uok, "ms", 1), "bare parallel HPKE seals "+fmtv(bare/1e6, bok, "ms", 1), ratio(u, uok, bare, bok))
	}
	// SFrame.
	for _, op := range []string{"Encrypt", "Decrypt"} {
		for _, f := range []string{"audio60B", "video10KB"} {
			p, pok := res.get("ns/op", "Benchmark"+op+"/"+f+"/parley")
			a, aok := res.get("ns/op", "Benchmark"+op+"/"+f+"/aesgcm")
			add("SFrame "+strings.ToLower(op)+", "+f, fmtv(p, pok, "ns", 0), "bare AES-256-GCM "+fmtv(a, aok, "ns", 0), ratio(p, pok, a, aok))
		}
	}
	// Keeper and mailbox and call CPU.
	{
		rj, ok := res.get("ns/op", "BenchmarkRequestJoin")
		add("MsgRequestJoin through the keeper", fmtv(rj/1e3, ok, "µs", 0), "", "")
		c10, ok10 := res.get("ns/op", "BenchmarkCommitEpoch10")
		c1k, ok1k := res.get("ns/op", "BenchmarkCommitEpoch1000")
		add("MsgCommitEpoch through the keeper, 10 / 1,000 members", fmtv(c10/1e3, ok10, "µs", 0)+" / "+fmtv(c1k/1e6, ok1k, "ms", 1), "", "")
		for _, k := range sortedKeys(res) {
			if strings.HasPrefix(k, "BenchmarkMailboxDelivery/") {
				d, ok := res.get("delivery-ms", k)
				p99, ok2 := res.get("p99-ms", k)
				add("mailbox delivery, post → subscriber, "+strings.TrimPrefix(k, "BenchmarkMailboxDelivery/"), fmtv(d, ok, "ms", 2), "p99 "+fmtv(p99, ok2, "ms", 2), "")
			}
		}
		cpu, ok := res.get("cpu-%/participant", "BenchmarkMeshCPU")
		add("call CPU, 4-party mesh, 2.5 Mbit/s video + audio per sender", fmtv(cpu, ok, "% of a core per participant", 1), "", "")
	}

	fmt.Println("| what | figure | reference (same run) | ratio |")
	fmt.Println("|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.what, r.figure, r.reference, r.ratio)
	}
	fmt.Println()
	fmt.Println("<details><summary>All benchmark lines</summary>")
	fmt.Println()
	fmt.Println("```")
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Println("```")
	fmt.Println("</details>")
}

func sortedKeys(r results) []string {
	out := make([]string, 0, len(r))
	for k := range r {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
