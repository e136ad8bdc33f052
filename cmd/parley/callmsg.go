package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/callmsg"
	"github.com/parleynet/parley/client/participant"
)

// printCallMessage prints a member's in-call message (client/callmsg)
// with its proven sender. A display name is shown in quotes beside the
// user and device, never in their place.
func printCallMessage(cmd *cobra.Command, m call.Message) {
	msg, err := callmsg.Decode(m.Body)
	if err != nil {
		cmd.Printf("%s  %s sent a message that does not read: %v\n", time.Now().Format("15:04:05"), m.From, err)
		return
	}
	at, from := time.Now().Format("15:04:05"), m.From.String()
	switch msg.Type {
	case callmsg.TypeChat:
		cmd.Printf("%s  chat from %s: %q\n", at, from, msg.Text)
	case callmsg.TypeName:
		cmd.Printf("%s  %s calls itself %q\n", at, from, msg.Text)
	case callmsg.TypeHand:
		if msg.Raised {
			cmd.Printf("%s  %s raised a hand\n", at, from)
		} else {
			cmd.Printf("%s  %s lowered a hand\n", at, from)
		}
	case callmsg.TypeReaction:
		cmd.Printf("%s  %s reacts: %s\n", at, from, msg.Reaction)
	case callmsg.TypeRecord:
		if msg.Raised {
			cmd.Printf("%s  %s is RECORDING this call\n", at, from)
		} else {
			cmd.Printf("%s  %s stopped recording\n", at, from)
		}
	case callmsg.TypeMute:
		// This client sends a file's audio: it has no microphone to mute.
		cmd.Printf("%s  %s asks %s to mute\n", at, from, msg.Text)
	}
}

// announceRecording tells every member that this device records.
func announceRecording(cmd *cobra.Command, p *participant.Participant) {
	body, err := callmsg.Encode(callmsg.Recording(true))
	if err == nil {
		err = p.Engine().SendMessage(body)
	}
	if err != nil {
		cmd.Printf("%s  could not tell the members that this device records: %v\n", time.Now().Format("15:04:05"), err)
	}
}
