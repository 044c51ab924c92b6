#!/usr/bin/env bash
# hack/deps.sh: the Debian packages the build and the tests need, in one list, installed when
# missing. make run, make test and .ci/run call it; run as root it installs what is missing (apt-get
# update first), otherwise it names the command to run and fails.
#
#   hack/deps.sh build   what make build needs: the runtime payload's compiler and node binaries
#   hack/deps.sh test    that and what the tests need
set -euo pipefail

# Build: make, git, gcc (k0s links sqlite); the runtime payload's node binaries and the kube-proxy
# and kube-router images come from containerd, runc, containernetworking-plugins, iptables,
# conntrack, ipset.
build=(make git gcc libc6-dev containerd runc containernetworking-plugins iptables conntrack ipset)
# Tests: nftables, iproute2, procps, util-linux (the network guard, the host snapshots, the
# air-gapped install's network namespace); zstd (tar --zstd, make bench's baseline); bats with its
# assert libraries and jq (the vm-tests suites), ruby (the Vagrantfile's syntax check), shellcheck
# (the shell scripts' linter); podman and mmdebstrap (the vm-tests suites' hosts are system
# containers); chromium (the web UI's tests drive it headless).
test=(nftables iproute2 procps util-linux zstd bats bats-support bats-assert jq ruby shellcheck podman mmdebstrap chromium)

case ${1:-} in
build) wanted=("${build[@]}") ;;
test) wanted=("${build[@]}" "${test[@]}") ;;
*)
	echo "usage: hack/deps.sh build|test" >&2
	exit 2
	;;
esac

missing=()
for p in "${wanted[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -gt 0 ]] || exit 0
if [[ $EUID -ne 0 ]]; then
	echo "deps: missing Debian packages: ${missing[*]}; install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
timeout 10m apt-get update -qq -o Acquire::Retries=3
timeout 30m apt-get install -y -qq --no-install-recommends -o Acquire::Retries=3 "${missing[@]}" </dev/null
# Debian starts containerd on install where systemd runs; the runtime brings its own.
if command -v systemctl >/dev/null && systemctl is-active --quiet containerd 2>/dev/null; then
	systemctl disable --now containerd
fi
