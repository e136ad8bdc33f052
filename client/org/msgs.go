package org

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	// The modules' Msg services must be registered for MsgTypeURLs.
	_ "github.com/parleynet/parley/x/identity/types"
	_ "github.com/parleynet/parley/x/meeting/types"
)

// Modules whose messages a grant may pay for, by the name a person types
// (--msgs identity,meeting), and the Msg service that defines them.
var moduleServices = map[string]string{
	"identity": "parley.identity.v1.Msg",
	"meeting":  "parley.meeting.v1.Msg",
}

// DefaultModules are the modules a grant covers unless told otherwise.
var DefaultModules = []string{"identity", "meeting"}

// MsgTypeURLs returns the type URLs of every message of the named
// modules' Msg services, sorted. They are read from the registered proto
// descriptors rather than listed by hand, so a message added to a module
// is covered without touching this package.
func MsgTypeURLs(modules []string) ([]string, error) {
	if len(modules) == 0 {
		modules = DefaultModules
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range modules {
		m = strings.TrimSpace(strings.ToLower(m))
		svc, ok := moduleServices[m]
		if !ok {
			return nil, fmt.Errorf("%w: module %q: a grant may only cover Parley's own messages: identity, meeting", ErrBadGrant, m)
		}
		d, err := proto.HybridResolver.FindDescriptorByName(protoreflect.FullName(svc))
		if err != nil {
			return nil, fmt.Errorf("org: service %s is not registered: %w", svc, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("org: %s is not a service", svc)
		}
		for i := 0; i < sd.Methods().Len(); i++ {
			url := "/" + string(sd.Methods().Get(i).Input().FullName())
			if !seen[url] {
				seen[url] = true
				out = append(out, url)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
