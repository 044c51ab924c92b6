#!/usr/bin/env bash
# vm-tests/provision.sh: run as root on each fresh VM by vm-tests/run.sh (over ssh, for Lima and
# Vagrant alike). It installs what the suites' helpers use on a host (the product needs nothing
# besides itself), and puts Rocky Linux in the state the matrix tests it in: SELinux enforcing,
# firewalld running. The suites apply the firewalld remedy mission-control preflight prints, as
# the docs tell users to.
set -euo pipefail

# shellcheck source=/dev/null
. /etc/os-release
case $ID in
ubuntu | debian)
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends iproute2 iptables nftables util-linux tar </dev/null
	;;
rocky)
	dnf install -y -q iproute iptables-nft nftables util-linux tar firewalld policycoreutils
	systemctl enable --now firewalld
	setenforce 1
	sed -i 's/^SELINUX=.*/SELINUX=enforcing/' /etc/selinux/config
	;;
*)
	echo "provision.sh: $PRETTY_NAME is not in the vm-tests matrix" >&2
	exit 1
	;;
esac
