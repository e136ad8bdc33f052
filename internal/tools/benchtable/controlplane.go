package main

import (
	"fmt"
	"strconv"
)

// controlPlaneRows adds the rows of one meeting growing to 200 members on
// four validators (bench BenchmarkControlPlane200): the joins, the commit
// at 200, one removal's rekey, and the leader's key wrap beside the same
// SealAll idle and the micro-benchmark's per-member cost.
func controlPlaneRows(res results, add func(what, figure, reference, ratio string)) {
	f := func(v float64, ok bool, unit string, prec int) string {
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
	const name = "BenchmarkControlPlane200"
	get := func(unit string) (float64, bool) { return res.get(unit, name) }

	win, okw := get("window-s")
	iv, okiv := get("interval-ms")
	ref := "not run"
	if okw && okiv {
		ref = fmt.Sprintf("requests spread over %.0f s; block interval %.0f ms", win, iv)
	}
	all, ok1 := get("admit-all-s")
	jpb, ok2 := get("joins/block")
	jpc, ok3 := get("joins/commit")
	add("200-member meeting, 4 validators: 199 joins, first request → all keyed / joins per block / per commit",
		f(all, ok1, "s", 1)+" / "+f(jpb, ok2, "per block", 2)+" / "+f(jpc, ok3, "per commit", 1), ref, "")

	j50, ok4 := get("join-p50-ms")
	j95, ok5 := get("join-p95-ms")
	r50, ok6 := get("join-real-p50-ms")
	r95, ok7 := get("join-real-p95-ms")
	n, okn := get("sessions")
	add("… one member's join, request sent → key installed, p50 / p95",
		f(j50, ok4, "ms", 0)+" / "+f(j95, ok5, "ms", 0),
		"the "+f(n, okn, "members", 0)+" running a real session: "+f(r50, ok6, "ms", 0)+" / "+f(r95, ok7, "ms", 0), ratio(j50, ok4, r50, ok6))

	gas, ok8 := get("commit200-gas")
	size, ok9 := get("commit200-bytes")
	adm, oka := get("commit200-admitted")
	rgas, okr := get("commitrm-gas")
	rsize, okrs := get("commitrm-bytes")
	add("… epoch commit at 200 members (admitting "+f(adm, oka, "", 0)+"of them): gas used / signed tx size",
		f(gas, ok8, "gas", 0)+" / "+f(size, ok9, "B", 0),
		"the removal's commit (199 members, none admitted): "+f(rgas, okr, "gas", 0)+" / "+f(rsize, okrs, "B", 0), "")

	k50, ok10 := get("rekey-p50-ms")
	k95, ok11 := get("rekey-p95-ms")
	kmax, ok12 := get("rekey-max-ms")
	add("… rekey after one removal, commit sent → the 198 other members keyed, p50 / p95 / max",
		f(k50, ok10, "ms", 0)+" / "+f(k95, ok11, "ms", 0)+" / "+f(kmax, ok12, "ms", 0), "removed member asserted keyless", "")

	seal, ok13 := get("seal199-ms")
	idle, ok14 := get("seal199-idle-ms")
	micro, ok15 := res.get("ns/op", "BenchmarkSealAll1000Cached")
	add("… key wrap to 199 members inside the run (leader's SealAll, HPKE MLKEM768-X25519 + Ed25519)",
		f(seal, ok13, "ms", 1),
		"same SealAll idle "+f(idle, ok14, "ms", 1)+"; SealAll1000Cached ×199/1000 "+f(micro/1e6*199/1000, ok15, "ms", 1),
		ratio(seal, ok13, idle, ok14))
	post, ok16 := get("post199-ms")
	add("… posting those 199 envelopes to the mailbox (the leader, one at a time)", f(post, ok16, "ms", 0),
		"sealing them "+f(seal, ok13, "ms", 1), ratio(post, ok16, seal, ok13))
}
