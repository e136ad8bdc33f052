package app

import (
	"context"
	"testing"

	dbm "github.com/cosmos/cosmos-db"

	reflectionv1 "cosmossdk.io/api/cosmos/reflection/v1"
	"cosmossdk.io/log/v2"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
)

// The reflection service builds its answer on each call, instead of
// holding it, and still lists the SDK's files and Parley's own.
func TestReflectionService(t *testing.T) {
	a := New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()))
	defer a.Close()
	if a.GRPCQueryRouter().Route("/cosmos.reflection.v1.ReflectionService/FileDescriptors") == nil {
		t.Fatal("cosmos.reflection.v1 is not registered")
	}
	res, err := reflectionService{}.FileDescriptors(context.Background(), &reflectionv1.FileDescriptorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"cosmos/bank/v1beta1/tx.proto": false, "parley/meeting/v1/tx.proto": false, "parley/identity/v1/tx.proto": false}
	for _, f := range res.Files {
		if _, ok := want[f.GetName()]; ok {
			want[f.GetName()] = true
		}
	}
	for name, found := range want {
		if !found {
			t.Errorf("%s missing from %d files", name, len(res.Files))
		}
	}
}
