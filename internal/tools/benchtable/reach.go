package main

import "strconv"

// reachRows adds the rows of calls across networks (issue 13): call
// set-up direct and relayed side by side, and the relay's CPU per
// forwarded Mbit/s against a bare pion/turn server.
func reachRows(res results, add func(what, figure, reference, ratio string)) {
	f := func(v float64, ok bool, unit string, prec int) string {
		if !ok {
			return "not run"
		}
		return strconv.FormatFloat(v, 'f', prec, 64) + " " + unit
	}
	{
		name := "BenchmarkCallSetup"
		d50, ok1 := res.get("direct-p50-ms", name)
		r50, ok2 := res.get("relayed-p50-ms", name)
		d90, ok3 := res.get("direct-p90-ms", name)
		r90, ok4 := res.get("relayed-p90-ms", name)
		extra, ok5 := res.get("relayed-extra-ms", name)
		add("call set-up through a node's TURN relay (symmetric NATs), p50 / p90",
			f(r50, ok2, "ms", 0)+" / "+f(r90, ok4, "ms", 0),
			"direct through STUN (endpoint-independent NATs) "+f(d50, ok1, "ms", 0)+" / "+f(d90, ok3, "ms", 0)+"; goal: relayed within 150 ms of direct",
			"+"+f(extra, ok5, "ms", 0))
	}
	{
		name := "BenchmarkRelayCPU"
		ours, ok1 := res.get("ours-cpu-%/Mbit/s", name)
		bare, ok2 := res.get("bare-cpu-%/Mbit/s", name)
		fwd, ok3 := res.get("forwarded-Mbit/s", name)
		r := ""
		if ok1 && ok2 && bare > 0 {
			r = strconv.FormatFloat(ours/bare, 'f', 2, 64) + "×"
		}
		add("relay CPU per forwarded Mbit/s ("+f(fwd, ok3, "Mbit/s", 0)+" of 1200-byte packets through one allocation)",
			f(ours, ok1, "% of a core", 3), "bare pion/turn server "+f(bare, ok2, "% of a core", 3)+"; goal: within 1.2×", r)
	}
}
