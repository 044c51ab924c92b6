#!/usr/bin/env bats
# multi-region (make bench): on two fresh podman hosts, a control plane and a registered data plane,
# how long the docs' two-datacenter MissionControlCluster (suites/multi-region.yaml) takes from
# apply to both CassandraDatacenters Ready, and to the stand-ins' whole ring of four across the
# clusters; against, in the same run, the one-datacenter cluster (suites/database.yaml) on the
# control plane alone to Ready and to its ring of two. Everything polled each second.
# shellcheck disable=SC2034
SUITE_HOSTS="cp-east dp-west" # read by run.sh and lib/suite.bash
load ../lib/suite

MERGED=$MC_STAGE/merged.kubeconfig

teardown_file() {
	cleanup_installs
}

# seconds_until START CMD...: seconds from START (date +%s.%N) until CMD succeeds; at most 15 minutes.
seconds_until() {
	local start=$1 i
	shift
	for i in $(seq 900); do
		if "$@" >/dev/null 2>&1; then
			awk -v now="$(date +%s.%N)" -v start="$start" 'BEGIN { print now - start }'
			return 0
		fi
		sleep 1
	done
	return 1
}

both_ready() { dc_ready "$CP" dc1 && dc_ready "$DP" dc2; }

@test "one region against two: apply to Ready, and to the whole ring" {
	install_platform "$CP" 10.112.0.0/16 control-plane --context-name CP_EAST
	install_platform "$DP" 10.113.0.0/16 data-plane --context-name DP_WEST
	local host image
	for host in "$CP" "$DP"; do
		for image in cassandra-standin system-logger-standin config-builder-standin; do
			on "$host" cp "$MC_STAGE/images/$image.tar" "$DATA_DIR/k0s/images/$image.tar"
		done
	done
	on "$DP" cat "$DATA_DIR/kubeconfig" | on "$CP" sh -c "umask 077 && cat >'$MC_STAGE/dp-west.kubeconfig'"
	on "$CP" sh -c "umask 077 && KUBECONFIG='$DATA_DIR/kubeconfig:$MC_STAGE/dp-west.kubeconfig' '$DATA_DIR/k0s/bin/k0s' kubectl config view --flatten >'$MERGED'"
	on "$CP" env KUBECONFIG="$MERGED" "$MC_STAGE/mcctl" register --source-context DP_WEST --dest-context CP_EAST \
		--source-server "https://$(host_address "$DP"):6443" --database-namespaces db >/dev/null
	kubectl_on "$CP" create namespace db

	local start one_ready one_ring two_ready two_ring
	start=$(date +%s.%N)
	kubectl_on "$CP" apply -f - <"$MC_REPO/vm-tests/suites/database.yaml" >/dev/null
	one_ready=$(seconds_until "$start" dc_ready "$CP" dc1)
	one_ring=$(seconds_until "$start" ring_joined "$CP" 2)
	kubectl_on "$CP" -n db delete missioncontrolcluster demo --wait=true --timeout=5m >/dev/null
	wait_until "the one-region cluster gone" 300 kubectl_prints "$CP" "" -n db get cassandradatacenter,pods,pvc -o name

	start=$(date +%s.%N)
	kubectl_on "$CP" apply -f - <"$MC_REPO/vm-tests/suites/multi-region.yaml" >/dev/null
	two_ready=$(seconds_until "$start" both_ready)
	two_ring=$(seconds_until "$start" ring_across 4)
	awk -v a="$one_ready" -v b="$one_ring" -v c="$two_ready" -v d="$two_ring" 'BEGIN {
		printf "# one region (dc1, 2 stand-ins): Ready %.1f s, ring of 2 %.1f s\n", a, b
		printf "# two regions (dc1 + dc2 in DP_WEST, 4 stand-ins): both Ready %.1f s, ring of 4 %.1f s: %.2fx and %.2fx one region\n", c, d, c / a, d / b
	}' >&3
	kubectl_on "$CP" -n db delete missioncontrolcluster demo --wait=true --timeout=5m >/dev/null
}
