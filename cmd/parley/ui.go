package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/keystore"
	"github.com/parleynet/parley/client/mailbox"
	"github.com/parleynet/parley/client/meeting"
	"github.com/parleynet/parley/client/verify"
	"github.com/parleynet/parley/client/webui"
)

func newUICmd(g *globals) *cobra.Command {
	var port int
	var quiet bool
	var orgAccount string
	var reach reachFlags
	var useRelay bool
	c := &cobra.Command{
		Use:   "ui",
		Short: "Serve the Parley web app on 127.0.0.1 and join calls from the browser",
		Long: "Starts this device's client and serves a page on 127.0.0.1. Open the printed link (it\n" +
			"carries a one-time token) in a browser on this machine: sign in with a device key of this\n" +
			"client, create or join a meeting, and talk. The device key and the chain work stay in this\n" +
			"process; the page encrypts and decrypts the media with the keys the client gives it.\n\n" +
			"On a first run the page creates the device key and claims a user ID, or links the device to\n" +
			"an existing user through another of its devices. Without --from, each device pays with its\n" +
			"own account, whose fees an organisation pays: --fee-granter (or --org on a localnet).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var (
				mu     sync.Mutex
				server *webui.Server
			)
			g.onChainEvent = func(msg string) {
				mu.Lock()
				s := server
				mu.Unlock()
				if s != nil {
					s.ChainNotice(msg)
				}
			}
			// Without --from, each device pays with its own account
			// (uisetup.go) and this client only reads.
			ch, err := g.chain(g.from != "")
			if errors.Is(err, verify.ErrNoAnchor) {
				return fmt.Errorf("%w\n(joining by invite? `parley trust init --invite 'http://127.0.0.1:8765/join#…'` trusts the anchor the invite carries)", err)
			}
			if err != nil {
				return err
			}
			defer ch.Close()
			st, err := g.store()
			if err != nil {
				return err
			}
			var payWith webui.PayWith
			if g.from == "" {
				payer := &uiPayer{g: g, org: orgAccount}
				defer payer.close()
				payWith = payer.Pay
			}
			srv, err := webui.New(webui.Config{
				Setup:   uiSetup{st: st, known: g.known()},
				PayWith: payWith,
				Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
				Chain:   ch,
				Keys:    uiKeys{st},
				NewMailbox: func(d meeting.Device) (webui.Mailbox, error) {
					mb, err := mailbox.New(mailbox.Config{Nodes: g.mailboxNodes(), ChainID: ch.ChainID(), User: d.UserID, Device: d.DeviceID, Key: d.Key})
					if err != nil {
						return nil, err
					}
					return reachMailbox{Client: mb, flags: &reach, mediaRelay: useRelay}, nil
				},
				Eph:      g.ephStore(),
				Contacts: g.contacts(),
				Log:      logWriter(cmd, quiet),
			})
			if err != nil {
				return err
			}
			mu.Lock()
			server = srv
			mu.Unlock()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if g.from == "" {
				cmd.Println(payingLine(orgAccount, g.feeGranter))
			}
			cmd.Printf("Parley is ready. Open this link in a browser on this machine (it works once):\n\n  %s\n\nCtrl-C stops it.\n", srv.URL())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve() }()
			select {
			case <-ctx.Done():
			case err = <-errc:
			}
			_ = srv.Close()
			return err
		},
	}
	c.Flags().IntVar(&port, "port", 8765, "port on 127.0.0.1 to serve the page on (0: any free port)")
	c.Flags().BoolVar(&quiet, "quiet", false, "do not print what happens")
	c.Flags().StringVar(&orgAccount, "org", envOr("PARLEY_ORG", ""), "DEMO CONVENIENCE (localnet): keyring account of an organisation that grants each new device account its fees, signed here (PARLEY_ORG); a real organisation's admin runs `parley org grant` instead")
	reach.add(c)
	c.Flags().BoolVar(&useRelay, "media-relay", true, fmt.Sprintf("carry calls of more than %d members through the nodes' media relays (up to %d members); off: a mesh of at most %d", call.DefaultMeshLimit, call.MaxRelayMembers, call.MaxMembers))
	return c
}

// uiKeys gives the page the device keys of this client's keystore.
type uiKeys struct{ st *keystore.Store }

func (k uiKeys) List() ([]webui.DeviceKeyInfo, error) {
	list, _, err := k.st.List()
	out := make([]webui.DeviceKeyInfo, 0, len(list))
	for _, i := range list {
		out = append(out, webui.DeviceKeyInfo{User: i.UserID, Device: i.DeviceID, Encrypted: i.Encrypted})
	}
	return out, err
}

func (k uiKeys) Unlock(user, device string, pass []byte) (meeting.Device, func(), error) {
	key, err := k.st.Load(user, device, pass)
	if errors.Is(err, keystore.ErrEmptyPassphrase) {
		return meeting.Device{}, nil, errors.New("this device key is encrypted: enter its passphrase")
	}
	if err != nil {
		return meeting.Device{}, nil, err
	}
	return meeting.Device{UserID: user, DeviceID: device, Key: key}, func() { key.Close() }, nil
}

// cmdWriter prints the UI's log lines on the command's output.
type cmdWriter struct{ cmd *cobra.Command }

func (w cmdWriter) Write(p []byte) (int, error) {
	w.cmd.Print(string(p))
	return len(p), nil
}

func logWriter(cmd *cobra.Command, quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return cmdWriter{cmd}
}
