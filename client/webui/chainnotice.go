package webui

// ChainNotice shows the page a warning about the chain nodes: a node
// that stopped answering or whose answer did not verify, and which node
// is used now. The CLI prints the same on stderr.
func (s *Server) ChainNotice(text string) {
	s.ctl.logf("chain: %s", text)
	s.ctl.notice("warn", "", text)
}
