package simtest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/parleynet/parley/x/meeting/types"
)

// The benchmarks time only the delivery of a message through the msg
// server, as DeliverTx would run it (a fresh event manager per message);
// users, devices, meetings and signatures are made outside the timer,
// since signing is the client's cost.

func benchParams() types.Params {
	p := types.DefaultParams()
	p.MaxParticipants = 1000
	p.MaxPendingRequests = 1000
	p.MaxDurationSeconds = 3600
	return p
}

// registerUsers registers n users with one device each, named so that
// registration order is roster order.
func registerUsers(b *testing.B, s *sim, prefix string, n int) []*device {
	b.Helper()
	devs := make([]*device, n)
	for i := range devs {
		u := &user{id: fmt.Sprintf("%s%05d", prefix, i), owner: addr(b, s.ac, 0x01)}
		seed := sha256.Sum256([]byte(u.id))
		devs[i] = newDevice(u.id, "d0", seed[:])
		if _, err := s.idMsg.RegisterUser(s.ctx, s.registerMsg(u, devs[i])); err != nil {
			b.Fatal(err)
		}
	}
	return devs
}

// benchKeys are n distinct ephemeral keys: a meeting accepts each once.
func benchKeys(b *testing.B, n int) [][]byte {
	b.Helper()
	keys := make([][]byte, n)
	for i := range keys {
		ikm := sha256.Sum256(fmt.Appendf(nil, "bench eph key %d", i))
		keys[i] = ephKey(b, ikm[:])
	}
	return keys
}

func meetingID(n int) []byte {
	id := sha256.Sum256(fmt.Appendf(nil, "bench meeting %d", n))
	return id[:types.MeetingIDSize]
}

func (s *sim) deliverCtx() sdk.Context { return s.ctx.WithEventManager(sdk.NewEventManager()) }

// BenchmarkRequestJoin delivers one MsgRequestJoin of a device that has no
// request in the meeting yet. Every pool devices it moves to a new
// meeting, so the pending limit is never reached.
func BenchmarkRequestJoin(b *testing.B) {
	const pool = 1000
	s := newSim(b, benchParams())
	s.nextBlock()
	keys := benchKeys(b, pool+1)
	host := registerUsers(b, s, "host", 1)[0]
	devs := registerUsers(b, s, "guest", pool)
	msgs := make([]*types.MsgRequestJoin, 0, pool)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%pool == 0 {
			b.StopTimer()
			id := meetingID(i / pool)
			if _, err := s.mtMsg.CreateMeeting(s.ctx, s.createMsg(host, host, id, keys[pool], types.Policy{}, 3600, s.now())); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
			for j := range min(pool, b.N-i) {
				msgs = append(msgs, s.requestMsg(devs[j], devs[j], id, s.height(), keys[j], nil))
			}
			b.StartTimer()
		}
		if _, err := s.mtMsg.RequestJoin(s.deliverCtx(), msgs[i%pool]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCommitEpoch10(b *testing.B)   { benchmarkCommitEpoch(b, 10) }
func BenchmarkCommitEpoch1000(b *testing.B) { benchmarkCommitEpoch(b, 1000) }

// benchmarkCommitEpoch delivers MsgCommitEpoch for a roster of n members
// (the leader included), every one already admitted: each op commits
// the next epoch with the same members, the steady state of a rotation.
func benchmarkCommitEpoch(b *testing.B, n int) {
	s := newSim(b, benchParams())
	s.nextBlock()
	keys := benchKeys(b, n)
	devs := registerUsers(b, s, "member", n)
	leader, id := devs[0], meetingID(0)
	if _, err := s.mtMsg.CreateMeeting(s.ctx, s.createMsg(leader, leader, id, keys[0], types.Policy{}, 3600, s.now())); err != nil {
		b.Fatal(err)
	}
	refs := make([]types.MemberRef, n)
	members := make([]types.Member, n)
	for i, d := range devs {
		refs[i] = d.ref()
		members[i] = types.Member{UserId: d.user, DeviceId: d.id, EphPkHash: types.EphKeyHash(keys[i])}
		if d == leader {
			continue
		}
		if _, err := s.mtMsg.RequestJoin(s.ctx, s.requestMsg(d, d, id, s.height(), keys[i], nil)); err != nil {
			b.Fatal(err)
		}
	}
	types.SortMembers(members)
	rosterHash := types.RosterHash(id, members)
	commitment := bytes.Repeat([]byte{0xc0}, types.KeyCommitmentSize)
	if _, err := s.mtMsg.CommitEpoch(s.ctx, s.commitMsg(leader, id, 1, refs, rosterHash, commitment, types.Reason_REASON_JOIN)); err != nil {
		b.Fatal(err)
	}

	const batch = 64
	msgs := make([]*types.MsgCommitEpoch, 0, batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			msgs = msgs[:0]
			for j := range min(batch, b.N-i) {
				msgs = append(msgs, s.commitMsg(leader, id, uint64(2+i+j), refs, rosterHash, commitment, types.Reason_REASON_ROTATE))
			}
			b.StartTimer()
		}
		if _, err := s.mtMsg.CommitEpoch(s.deliverCtx(), msgs[i%batch]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "members/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/member")
}
