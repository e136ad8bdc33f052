package org

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"

	"github.com/parleynet/parley/internal/chainparams"
)

func TestMsgTypeURLs(t *testing.T) {
	all, err := MsgTypeURLs(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/parley.identity.v1.MsgRegisterUser", "/parley.identity.v1.MsgAddDevice", "/parley.meeting.v1.MsgCreateMeeting", "/parley.meeting.v1.MsgCommitEpoch"} {
		if !slices.Contains(all, want) {
			t.Errorf("%s not covered: %v", want, all)
		}
	}
	for _, u := range all {
		if !strings.HasPrefix(u, "/parley.") {
			t.Errorf("%s is not Parley's", u)
		}
	}
	id, err := MsgTypeURLs([]string{"identity"})
	if err != nil || slices.Contains(id, "/parley.meeting.v1.MsgCreateMeeting") {
		t.Fatalf("identity only: %v %v", id, err)
	}
	if _, err := MsgTypeURLs([]string{"bank"}); !errors.Is(err, ErrBadGrant) {
		t.Fatalf("bank: %v, want ErrBadGrant", err)
	}
}

func TestGrantMsg(t *testing.T) {
	chainparams.SetSDKConfig()
	a := sdk.AccAddress(make([]byte, 20)).String()
	b := sdk.AccAddress(append(make([]byte, 19), 1)).String()
	now := time.Unix(1_800_000_000, 0)
	lim := sdk.NewCoins(sdk.NewInt64Coin("uparley", 5))
	m, err := Grant{SpendLimit: lim, Expires: now.Add(time.Hour)}.Msg(a, b, now)
	if err != nil {
		t.Fatal(err)
	}
	al, ok := m.Allowance.GetCachedValue().(*feegrant.AllowedMsgAllowance)
	if !ok {
		t.Fatalf("allowance is %T, want an AllowedMsgAllowance", m.Allowance.GetCachedValue())
	}
	inner, err := al.GetAllowance()
	if err != nil {
		t.Fatal(err)
	}
	basic := inner.(*feegrant.BasicAllowance)
	if !basic.SpendLimit.Equal(lim) || !basic.Expiration.Equal(now.Add(time.Hour)) {
		t.Fatalf("basic allowance %v", basic)
	}
	if slices.Contains(al.AllowedMessages, "/cosmos.bank.v1beta1.MsgSend") || len(al.AllowedMessages) == 0 {
		t.Fatalf("allowed %v", al.AllowedMessages)
	}
	for name, g := range map[string]struct {
		g              Grant
		granter, grant string
	}{
		"to itself":      {Grant{}, a, a},
		"bad grantee":    {Grant{}, a, "nobody"},
		"expired":        {Grant{Expires: now.Add(-time.Second)}, a, b},
		"unknown module": {Grant{Modules: []string{"staking"}}, a, b},
	} {
		if _, err := g.g.Msg(g.granter, g.grant, now); !errors.Is(err, ErrBadGrant) {
			t.Errorf("%s: %v, want ErrBadGrant", name, err)
		}
	}
}
