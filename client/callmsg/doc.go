// Package callmsg is what members say to each other in a call besides
// media: a chat line, a raised or lowered hand, a reaction, a display
// name. The call engine carries each as an in-call message (client/call,
// message.go: signed by the sender's device key, sealed to each member of
// the current epoch, never on chain, unreadable by nodes); this package
// only gives the body its one encoding.
//
// # Encoding (version 1)
//
//	offset  size  field
//	0       1     version = 0x01
//	1       1     type: 1 chat, 2 hand, 3 reaction, 4 name, 5 mute, 6 recording
//	2       N     chat: the line, UTF-8, 1..2000 bytes
//	              hand: 1 byte, 0x00 lowered or 0x01 raised
//	              reaction: 1 byte, 1 thumbs-up, 2 clap, 3 heart, 4 laugh, 5 surprise
//	              name: the display name, UTF-8, 1..64 bytes, no control or
//	              format characters (Cc, Cf), no space at either end
//	              mute: the member asked to mute, "user/device" (each 1..64
//	              bytes, no space, control or format character)
//	              recording: 1 byte, 0x00 stopped or 0x01 recording
//
// Decode refuses anything Encode would not produce (ErrMalformed): another
// version or type, a field of the wrong size, text that is not UTF-8,
// control or format characters in a name.
//
// A mute request is honoured (the receiver's own client mutes its own
// microphone and says so) only when its signed sender is the meeting's
// leader as the receiver's last proven read names it, and it names the
// receiver; no one can mute another's microphone. A recording notice is
// sent again at every epoch while it lasts, so that a member who joins
// later sees it too.
//
// A display name is what its sender calls itself, shown beside the user
// and device the roster proves; it proves nothing by itself.
//
// Must never: decode more than MaxBody bytes; accept a name with control
// or format characters (a bidirectional override would let a sender make
// its label read as another's).
package callmsg
