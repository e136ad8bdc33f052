// Package meeting is the device side of x/meeting: it keeps this device's
// ephemeral key for each meeting, signs the meeting messages with the
// device key (sign bytes from x/meeting/types, the one definition shared
// with the chain) and sends them through a Chain.
//
// Ephemeral private keys are stored under <home>/meetings with mode 0600
// and deleted when the meeting ends here; they never leave the device.
package meeting
