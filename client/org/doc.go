// Package org is what an organisation does for its people's devices: it
// pays their transaction fees with an x/feegrant allowance, so a device
// whose account holds no tokens (a page's first run, a new laptop) can
// register and hold meetings.
//
// A grant is always an AllowedMsgAllowance around a BasicAllowance that
// names only Parley's own messages (x/identity and x/meeting), so what an
// organisation gives cannot be spent on bank sends, staking or anything
// else. It must never build a grant without that filter.
package org
