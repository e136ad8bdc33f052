package app

import (
	"context"

	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reflectionv1 "cosmossdk.io/api/cosmos/reflection/v1"
)

// reflectionService is the cosmos.reflection.v1 service that builds the
// set of every file descriptor the node knows when a client asks for it.
// The SDK's (runtime/services) builds it once at start and holds it for
// the node's life: about 16 MB of live heap, which the garbage collector's
// headroom doubles in resident memory, for a call clients make once when
// they start, if at all.
type reflectionService struct {
	reflectionv1.UnimplementedReflectionServiceServer
}

var _ reflectionv1.ReflectionServiceServer = reflectionService{}

// FileDescriptors implements reflectionv1.ReflectionServiceServer.
func (reflectionService) FileDescriptors(context.Context, *reflectionv1.FileDescriptorsRequest) (*reflectionv1.FileDescriptorsResponse, error) {
	fds, err := proto.MergedGlobalFileDescriptors()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "merging the file descriptors: %v", err)
	}
	return &reflectionv1.FileDescriptorsResponse{Files: fds.File}, nil
}
