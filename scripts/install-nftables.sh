#!/usr/bin/env bash
# Installs Debian's nftables (the nft command) for the NAT test
# (e2e/nat_test.go), unless it is already there. The kernel has nf_tables
# with NAT and masquerade built in; only the tool is missing. Needs root
# or passwordless sudo.
set -euo pipefail
if command -v nft >/dev/null; then
  exit 0
fi
echo "installing nftables from Debian for the NAT test"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends nftables >/dev/null
nft --version
