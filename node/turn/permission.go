package turn

import "net"

// peerAllowed says whether the relay may send to ip: global unicast only
// (no loopback, link-local, multicast or unspecified addresses), and no
// private ranges unless allowPrivate. Without this a client could use the
// relay to reach services on the node's own host or network.
func peerAllowed(ip net.IP, allowPrivate bool) bool {
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
	}
	if !ip.IsGlobalUnicast() {
		return false
	}
	return allowPrivate || !ip.IsPrivate()
}
