#!/usr/bin/env bats
# join (make bench): how long a worker's join takes to its node Ready, against the first node's
# install to its node Ready, in the same run on two fresh podman hosts. Both are timed the same
# way: from the command's start until the controller's API reports the node Ready (polled each
# second), so the ratio compares like with like.
# shellcheck disable=SC2034
SUITE_HOSTS="cp-east worker-1" # read by run.sh and lib/suite.bash
load ../lib/suite

CIDR=10.111.0.0/16
LICENSE=$MC_STAGE/licenses/two-nodes.yaml

teardown_file() {
	cleanup_installs
}

# ready_after NAME START: seconds from START (date +%s.%N) until node NAME is Ready on the
# controller; at most 10 minutes.
ready_after() {
	local name=$1 start=$2 i
	for i in $(seq 600); do
		if [[ $(kubectl_on "$CP" get node "$name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]; then
			awk -v now="$(date +%s.%N)" -v start="$start" 'BEGIN { print now - start }'
			return 0
		fi
		sleep 1
	done
	return 1
}

@test "install to node Ready, then join to node Ready" {
	local start install_pid install_s join_s
	start=$(date +%s.%N)
	echo "$CP" >>"$BATS_FILE_TMPDIR/installed"
	mc "$CP" install --license "$LICENSE" --cidr "$CIDR" --context-name CP_EAST --yes >/dev/null 2>&1 &
	install_pid=$!
	install_s=$(ready_after cp-east "$start")
	wait "$install_pid"
	mc "$CP" node join-command --role worker --out /tmp/worker.token >/dev/null
	on "$CP" cat /tmp/worker.token | on "${HOSTS[1]}" sh -c "umask 077 && cat >'$MC_STAGE/worker.token'"
	echo "${HOSTS[1]}" >>"$BATS_FILE_TMPDIR/installed"
	start=$(date +%s.%N)
	mc "${HOSTS[1]}" join --license "$LICENSE" "$MC_STAGE/worker.token" --yes >/dev/null 2>&1 &
	local join_pid=$!
	join_s=$(ready_after worker-1 "$start")
	wait "$join_pid"
	awk -v i="$install_s" -v j="$join_s" 'BEGIN { printf "# install to node Ready %.1f s; join to node Ready %.1f s: %.2fx\n", i, j, j / i }' >&3
}
