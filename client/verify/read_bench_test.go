package verify_test

import (
	"context"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/parleynet/parley/client/identity"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/internal/nettest"
	identitytypes "github.com/parleynet/parley/x/identity/types"
)

// BenchmarkProvenRead measures one read of a device record on a real
// in-process chain over loopback RPC: checking the proof alone (the CPU
// that verification adds), the whole proven read (query with proof, then
// the check), and, for reference, the same query without a proof (what a
// client that trusts its node does).
func BenchmarkProvenRead(b *testing.B) {
	net := nettest.New(b, nettest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := net.Verified(b, "alice")
	_, priv, _ := edKey()
	if _, err := identity.Register(ctx, c, "bob", "phone", edSigner{priv}); err != nil {
		b.Fatal(err)
	}
	snap, err := c.Reader().Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	key, _ := identitytypes.DeviceStoreKey("bob", "phone")
	rpc, err := rpchttp.New(net.RPC, "/websocket")
	if err != nil {
		b.Fatal(err)
	}
	res, err := rpc.ABCIQueryWithOptions(ctx, verify.StorePath(identitytypes.StoreKey), key, rpcclient.ABCIQueryOptions{Height: snap.Height(), Prove: true})
	if err != nil {
		b.Fatal(err)
	}
	pc := verify.NewProofChecker()
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			if _, err := pc.Check(net.RPC, identitytypes.StoreKey, key, snap.Height(), snap.AppHash(), res.Response); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-proven", func(b *testing.B) {
		for b.Loop() {
			if _, err := snap.Device(ctx, "bob", "phone"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-unproven", func(b *testing.B) {
		for b.Loop() {
			if _, err := rpc.ABCIQueryWithOptions(ctx, verify.StorePath(identitytypes.StoreKey), key, rpcclient.ABCIQueryOptions{Height: snap.Height()}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
