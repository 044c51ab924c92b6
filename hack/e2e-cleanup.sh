#!/usr/bin/env bash
# hack/e2e-cleanup.sh BINARY HOLDERS: after an end-to-end run that failed, timed out or panicked
# (go test's -timeout runs no t.Cleanup), remove what it may have left on this machine: the install
# (mission-control reset), the holders of isolated network namespaces the tests started (their PIDs,
# one per line, in HOLDERS; each killed only while it is still the holder), and the network guard
# (bridge mc-guard0, nftables table mc_test_guard). make e2e runs it when the tests fail.
set -uo pipefail
binary=${1:?usage: e2e-cleanup.sh BINARY HOLDERS} holders=${2:?usage: e2e-cleanup.sh BINARY HOLDERS}
status=0
if [[ -d /var/lib/mission-control ]]; then
	echo "e2e-cleanup: resetting the install the tests left" >&2
	timeout -k 30s 10m "$binary" reset --yes --quiet || { echo "e2e-cleanup: reset failed (exit $?)" >&2 && status=1; }
fi
if [[ -f $holders ]]; then
	while read -r pid; do
		if [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == "sleep infinity " ]]; then
			echo "e2e-cleanup: ending the namespace holder $pid" >&2
			kill -KILL "$pid" || status=1
		fi
	done <"$holders"
	rm -f "$holders"
fi
if nft list table inet mc_test_guard >/dev/null 2>&1; then
	echo "e2e-cleanup: removing the network guard's table" >&2
	nft delete table inet mc_test_guard || status=1
fi
if ip link show mc-guard0 >/dev/null 2>&1; then
	echo "e2e-cleanup: removing the network guard's bridge" >&2
	ip link delete mc-guard0 || status=1
fi
exit "$status"
