package types_test

import (
	"crypto/hpke"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleynet/parley/x/meeting/types"
)

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	cases := []struct {
		name    string
		set     func(p *types.Params, v uint64)
		lo, hi  uint64
		noBelow bool // lo is 0: nothing below it
	}{
		{"max_participants", func(p *types.Params, v uint64) { p.MaxParticipants = uint32(v) }, 2, 10000, false},
		{"max_pending_requests", func(p *types.Params, v uint64) { p.MaxPendingRequests = uint32(v) }, 1, 10000, false},
		{"max_duration_seconds", func(p *types.Params, v uint64) { p.MaxDurationSeconds = v }, 60, 30 * 24 * 3600, false},
		{"leader_timeout_blocks", func(p *types.Params, v uint64) { p.LeaderTimeoutBlocks = v }, 1, 1_000_000, false},
		{"request_ttl_blocks", func(p *types.Params, v uint64) { p.RequestTtlBlocks = v }, 1, 10_000_000, false},
		{"retention_blocks", func(p *types.Params, v uint64) { p.RetentionBlocks = v }, 0, 100_000_000, true},
		{"end_block_budget", func(p *types.Params, v uint64) { p.EndBlockBudget = uint32(v) }, 1, 100_000, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(v uint64, ok bool) {
				p := types.DefaultParams()
				tc.set(&p, v)
				if ok {
					require.NoError(t, p.Validate(), "%d", v)
				} else {
					require.ErrorIs(t, p.Validate(), types.ErrInvalidParams, "%d", v)
				}
			}
			check(tc.lo, true)
			check(tc.hi, true)
			check(tc.hi+1, false)
			if !tc.noBelow {
				check(tc.lo-1, false)
			}
		})
	}
}

func TestValidateEphKey(t *testing.T) {
	k, err := hpke.MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	good := k.PublicKey().Bytes()
	require.Len(t, good, types.EphKeySize)
	require.NoError(t, types.ValidateEphKey("eph_pk", good))

	ffff := make([]byte, types.EphKeySize)
	for i := range ffff {
		ffff[i] = 0xff
	}
	_, err = hpke.MLKEM768X25519().NewPublicKey(ffff)
	require.Error(t, err, "the unparsable key must really not parse")
	for name, key := range map[string][]byte{
		"empty":           nil,
		"one short":       good[:types.EphKeySize-1],
		"one long":        append(append([]byte(nil), good...), 0),
		"ML-KEM part":     good[:1184],
		"unparsable 0xff": ffff,
	} {
		require.ErrorIs(t, types.ValidateEphKey("eph_pk", key), types.ErrInvalidEphKey, name)
	}

	h := types.EphKeyHash(good)
	require.Len(t, h, 32)
	require.Equal(t, h, types.EphKeyHash(good))
	require.NotEqual(t, h, types.EphKeyHash(good[1:]))
}
