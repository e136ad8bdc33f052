package sframe_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/parleynet/parley/client/sframe"
)

func Example() {
	mk := bytes.Repeat([]byte{0x11}, sframe.MeetingKeySize) // MK_e of epoch 5
	const epoch, rosterSize = 5, 3

	// Member 1 sends; every other member receives.
	send, _ := sframe.NewSender()
	if err := send.SetEpoch(epoch, mk, 1); err != nil {
		panic(err)
	}
	recv, _ := sframe.NewKeyring()
	if err := recv.SetEpoch(epoch, mk, rosterSize); err != nil {
		panic(err)
	}

	opus := []byte{0x78, 'h', 'e', 'l', 'l', 'o'}
	wire, _ := send.Encrypt(nil, sframe.CodecOpus, opus)
	fmt.Printf("TOC byte in the clear: %#x\n", wire[0])

	frame, err := recv.Decrypt(nil, sframe.CodecOpus, wire)
	fmt.Printf("%q %v\n", frame[1:], err)

	_, err = recv.Decrypt(nil, sframe.CodecOpus, wire)
	fmt.Println(errors.Is(err, sframe.ErrReplay), recv.Stats().Replayed)
	// Output:
	// TOC byte in the clear: 0x78
	// "hello" <nil>
	// true 1
}
