// Package webui is `parley ui`: a web app served by the device's own
// client on a loopback address, through which a person joins calls from a
// browser. The device key, the chain and the key exchange stay in the
// client: controller.go takes the page's requests, phase.go is the typed
// phase machine they move (sign-in, lobby, waiting, call, over),
// signin.go, meetingrun.go and epochs.go run the device, the meeting
// session and call engine, pageattach.go and pageconn.go are the page's
// connection, bridge.go and slots.go its media, firstrun.go the first
// run (a new device key, then a user ID claimed or linked),
// linkapprove.go the approval of another device's link request, and
// account.go the chain client that pays with the device's own account; the
// page (assets/, embedded in the binary) captures the camera and
// microphone, encrypts and decrypts every frame with SFrame in a Worker
// (assets/sframe-worker.js), and renders.
//
// The page and its client talk over a WebSocket (JSON messages,
// protocol.go) and one WebRTC connection (bridge.go): the page's frames,
// already sealed, go to call.Engine.SendSealed, which checks them under
// this device's key before they leave; the other members' frames, checked
// by the engine, reach the page still sealed on fixed receive slots
// (slots.go). The page receives each epoch's per-sender SFrame keys, never
// the meeting key.
//
// The server must never serve anything without the one-time token or the
// session cookie it turns into (auth.go), never accept a WebSocket from
// another origin, never send a WebSocket anything or take a request from
// it before it proves the page secret (the cookie reaches every port of
// 127.0.0.1 the browser visits; the secret only the page's origin), never
// let a connection displace the attached page unless it proves the secret
// and asks to take over, never send the page a passphrase or private
// key (the first run only receives one), never put the secret in any response but the
// token's, never listen beyond loopback, and never forward a frame from
// the page that does not authenticate under this device's key.
// docs/PROTOCOL.md section 8 is the full description.
package webui
