package mailbox

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"

	mailboxv1 "github.com/parleynet/parley/api/mailbox/v1"
)

// A request that does not decode would get gRPC's INTERNAL, which names
// nothing and makes a client take the node for broken and try the next
// one; for a stream gRPC even writes that status itself, before the
// handler can answer. So the mailbox's server decodes with decodeCodec,
// which never fails a decode but notes the failure, and its handlers
// (serviceDesc) turn a noted failure into MALFORMED_REQUEST.

// decodeCodec is gRPC's protobuf codec, except that Unmarshal notes an
// error for the handler to report instead of returning it.
type decodeCodec struct {
	encoding.CodecV2
	failed sync.Map // message pointer → decode error, until the handler takes it
}

func newDecodeCodec() *decodeCodec {
	return &decodeCodec{CodecV2: encoding.GetCodecV2(proto.Name)}
}

func (c *decodeCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := c.CodecV2.Unmarshal(data, v); err != nil {
		c.failed.Store(v, err)
	}
	return nil
}

// take returns the noted decode error of v, if any, and forgets it.
func (c *decodeCodec) take(v any) error {
	if err, ok := c.failed.LoadAndDelete(v); ok {
		return toStatus(fmt.Errorf("%w: %v", mailboxv1.ErrMalformedRequest, err))
	}
	return nil
}

// serviceDesc is the generated service description with every request
// decoder checked against c.
func (c *decodeCodec) serviceDesc() *grpc.ServiceDesc {
	gen := mailboxv1.Mailbox_serviceDesc
	sd := gen
	sd.Methods = make([]grpc.MethodDesc, len(gen.Methods))
	for i, m := range gen.Methods {
		h := m.Handler
		m.Handler = func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			return h(srv, ctx, func(v any) error {
				if err := dec(v); err != nil {
					return err
				}
				return c.take(v)
			}, icpt)
		}
		sd.Methods[i] = m
	}
	sd.Streams = make([]grpc.StreamDesc, len(gen.Streams))
	for i, st := range gen.Streams {
		h := st.Handler
		st.Handler = func(srv any, stream grpc.ServerStream) error {
			return h(srv, decodeStream{stream, c})
		}
		sd.Streams[i] = st
	}
	return &sd
}

// decodeStream checks a stream's requests against the codec's notes.
type decodeStream struct {
	grpc.ServerStream
	c *decodeCodec
}

func (s decodeStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.c.take(m)
}
