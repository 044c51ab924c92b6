#!/usr/bin/env bats
# multi-region: the docs' walk-through on two hosts. A control plane (CP_EAST, on cp-east) and a
# data plane (DP_WEST, on dp-west), each on its own range, a merged kubeconfig, mcctl register as
# the docs write it, the docs' validation, then the docs' two-datacenter MissionControlCluster
# (suites/multi-region.yaml: dc1 on CP_EAST, dc2 in DP_WEST, single-node allowances as each region
# is one node). Both datacenters reach Ready and are one ring: each of the four Cassandra
# stand-ins (test doubles built from e2e/standin) lists all four pods by pod address over TLS on
# 7001, across the clusters, routed by the BGP peering register set up. A plain pod in either
# cluster reaches neither cluster's internode ports. Then the docs' failure scenarios: the control
# plane down (DP_WEST's datacenter keeps running and reconciling) and back (status catches up); the
# data plane down (dc1 unaffected, dc2 unreachable in the status) and back; both datacenters
# stopped and started with their data; a deregister refused while the cluster uses DP_WEST, and,
# with the cluster deleted, a deregister that withdraws the routes, rules and BGP peers.
# shellcheck disable=SC2034
SUITE_HOSTS="cp-east dp-west" # read by run.sh and lib/suite.bash
# shellcheck disable=SC2034
SUITE_SHARED=pair:7 # read by run.sh: runs on the shared pair, after database, before support-bundle
# shellcheck disable=SC2034
SUITE_TIMEOUT=45m # read by run.sh: two datacenters, each started three times, and two runtimes stopped and started
load ../lib/suite

MERGED=$MC_STAGE/merged.kubeconfig

teardown_file() {
	if [[ ${MC_SHARED:-} == 1 ]]; then
		kubectl_on "$CP" -n db delete missioncontrolcluster --all --ignore-not-found --wait=true --timeout=5m || true
		kubectl_on "$CP" delete namespace db --ignore-not-found --wait=true --timeout=5m || true
		kubectl_on "$DP" delete namespace db --ignore-not-found --wait=true --timeout=5m || true
		on "$CP" env KUBECONFIG="$MERGED" "$MC_STAGE/mcctl" deregister --source-context DP_WEST --dest-context CP_EAST || true
	fi
	on "$CP" rm -f "$MERGED" "$MC_STAGE/dp-west.kubeconfig" || true
	cleanup_installs
}

# mcctl_docs ARG...: mcctl on the control plane's host with the merged kubeconfig, as the docs
# run it.
mcctl_docs() {
	on "$CP" env KUBECONFIG="$MERGED" "$MC_STAGE/mcctl" "$@"
}

# routes_via HOST ADDR: HOST routes a pod range (a node's share, announced over BGP: kube-router's
# routes are protocol 17) through ADDR.
routes_via() {
	on "$1" ip -4 route show proto 17 | grep -q "via $2 "
}

# peering_rule HOST CIDR: the peering agent on HOST sends traffic to CIDR untranslated.
peering_rule() {
	kubectl_on "$1" -n kube-system exec ds/mission-control-peering -- iptables-save -t nat | grep -qx -- "-A MC-PEER-PODS -d $2 -j ACCEPT"
}

# intruder_dials HOST IP...: a plain pod in HOST's db namespace dials 7000 and 7001 of every IP
# and the management API (8080) of the first; prints what it found.
intruder_dials() {
	local host=$1 ip targets=()
	shift
	for ip in "$@"; do targets+=("\"$ip:7000\"" "\"$ip:7001\""); done
	targets+=("\"$1:8080\"")
	kubectl_on "$host" -n db delete pod intruder --ignore-not-found --wait=true >/dev/null
	kubectl_on "$host" apply -f - >/dev/null <<-YAML
		apiVersion: v1
		kind: Pod
		metadata: {name: intruder, namespace: db}
		spec:
		  restartPolicy: Never
		  containers:
		  - name: dial
		    image: localhost/mission-control-e2e/hello:1
		    imagePullPolicy: Never
		    args: [dial, $(IFS=,; echo "${targets[*]}")]
	YAML
	wait_until "the intruder on $host done" 120 kubectl_prints "$host" Succeeded -n db get pod intruder -o 'jsonpath={.status.phase}'
	kubectl_on "$host" -n db logs intruder
}

@test "install the control plane (CP_EAST) and the data plane (DP_WEST), each on its own range, with the stand-ins' images" {
	install_shared "$CP"
	install_shared "$DP"
	local host image
	for host in "$CP" "$DP"; do
		for image in cassandra-standin system-logger-standin config-builder-standin hello; do
			on "$host" cp "$MC_STAGE/images/$image.tar" "$DATA_DIR/k0s/images/$image.tar"
		done
	done
	run mc "$CP" status -o json
	assert_output --partial '"podCIDR"'
}

@test "merge the kubeconfigs, mcctl register --source-context DP_WEST --dest-context CP_EAST, then the docs' validation" {
	on "$DP" cat "$DATA_DIR/kubeconfig" | on "$CP" sh -c "umask 077 && cat >'$MC_STAGE/dp-west.kubeconfig'"
	on "$CP" sh -c "umask 077 && KUBECONFIG='$DATA_DIR/kubeconfig:$MC_STAGE/dp-west.kubeconfig' '$DATA_DIR/k0s/bin/k0s' kubectl config view --flatten >'$MERGED'"
	run on "$CP" env KUBECONFIG="$MERGED" "$DATA_DIR/k0s/bin/k0s" kubectl config get-contexts -o name
	assert_line CP_EAST
	assert_line DP_WEST
	local address
	address=$(host_address "$DP")
	run mcctl_docs register --source-context DP_WEST --dest-context CP_EAST --source-server "https://$address:6443" --database-namespaces db
	assert_success
	assert_output --partial "Their pods reach each other: 1 node of DP_WEST and 1 node of CP_EAST peer over BGP"
	run kubectl_on "$CP" get -n mission-control clientconfig
	assert_output --regexp "dp-west"
	run kubectl_on "$CP" get -n mission-control secret
	assert_output --regexp "dp-west-config"
}

@test "each cluster routes the other's pod range through the other's host, and sends to it untranslated" {
	local cp_pods dp_pods cp_addr dp_addr
	cp_pods=$(mc "$CP" status -o json | jq -r .state.podCIDR)
	dp_pods=$(mc "$DP" status -o json | jq -r .state.podCIDR)
	cp_addr=$(host_address "$CP")
	dp_addr=$(host_address "$DP")
	# kube-router announces each node's share of its cluster's range: a route inside the other's.
	wait_until "cp-east's route to DP_WEST's pods" 120 routes_via "$CP" "$dp_addr"
	wait_until "dp-west's route to CP_EAST's pods" 120 routes_via "$DP" "$cp_addr"
	run on "$CP" ip -4 route show proto 17
	assert_output --partial "${dp_pods%.*/*}" # the node's share: DP_WEST's range, first octets
	wait_until "cp-east's peering rule" 120 peering_rule "$CP" "$dp_pods"
	wait_until "dp-west's peering rule" 120 peering_rule "$DP" "$cp_pods"
}

@test "the docs' two-datacenter MissionControlCluster: dc1 and dc2 Ready, one ring of four over TLS on 7001 across the clusters" {
	kubectl_on "$CP" create namespace db
	kubectl_on "$CP" apply -f - <"$MC_REPO/vm-tests/suites/multi-region.yaml"
	wait_until "CassandraDatacenter dc1 Ready on CP_EAST" 600 kubectl_prints "$CP" "True Ready" -n db get cassandradatacenter dc1 -o \
		'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.cassandraOperatorProgress}'
	wait_until "CassandraDatacenter dc2 Ready in DP_WEST" 600 kubectl_prints "$DP" "True Ready" -n db get cassandradatacenter dc2 -o \
		'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.cassandraOperatorProgress}'
	wait_until "all four stand-ins in one ring over TLS on 7001" 240 ring_across 4
}

@test "the MissionControlCluster's status shows both datacenters with their contexts" {
	wait_until "both datacenters in the status" 180 kubectl_prints "$CP" "dc1:local:2:2,dc2:DP_WEST:2:2," -n db get missioncontrolcluster demo -o \
		'jsonpath={range .status.datacenters[*]}{.name}:{.context}:{.size}:{.readyReplicas},{end}'
}

@test "a plain pod in either cluster reaches neither cluster's internode ports; the management API stays open" {
	local ips=() host out ip
	for host in "$CP" "$DP"; do
		read -ra found <<<"$(kubectl_on "$host" "${ALL_PODS[@]}" -o 'jsonpath={.items[*].status.podIP}')"
		ips+=("${found[@]}")
	done
	[[ ${#ips[@]} == 4 ]] || fail "want 4 database pods, found ${ips[*]}"
	for host in "$CP" "$DP"; do
		out=$(intruder_dials "$host" "${ips[@]}")
		for ip in "${ips[@]}"; do
			[[ $out == *"closed $ip:7000"* && $out == *"closed $ip:7001"* ]] || fail "from $host: $out"
		done
		[[ $out == *"open ${ips[0]}:8080"* ]] || fail "from $host, the management API: $out"
		kubectl_on "$host" -n db delete pod intruder --wait=true
	done
}

# start_runtime HOST: the runtime stop_runtime stopped starts again (as at boot), and the install
# is healthy.
start_runtime() {
	on "$1" systemctl start mission-control-k0s.service
	wait_until "$1's install healthy again" 300 mc "$1" status -q
}

# replaced_and_ready HOST POD UID: POD in HOST's db namespace is a new pod (not UID), Ready.
replaced_and_ready() {
	local now
	now=$(kubectl_on "$1" -n db get pod "$2" -o 'jsonpath={.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}') || return 1
	[[ $now != "$3 "* && $now == *" True" ]]
}

# markers: every stand-in's pod and data marker ("pod=marker", a marker holding spaces), sorted,
# asked through its cluster.
markers() {
	local host pod
	for host in "$CP" "$DP"; do
		for pod in $(kubectl_on "$host" "${ALL_PODS[@]}" -o 'jsonpath={.items[*].metadata.name}'); do
			echo "$pod=$(kubectl_on "$host" get --raw "/api/v1/namespaces/db/pods/$pod:8080/proxy/api/v0/standin" | jq -r .marker)"
		done
	done | LC_ALL=C sort | paste -sd' '
}

@test "control plane down: DP_WEST's dc2 keeps running and its operators keep reconciling (a deleted pod comes back)" {
	stop_runtime "$CP"
	local pod uid
	pod=$(kubectl_on "$DP" -n db get pods -l cassandra.datastax.com/datacenter=dc2 -o 'jsonpath={.items[0].metadata.name}')
	uid=$(kubectl_on "$DP" -n db get pod "$pod" -o 'jsonpath={.metadata.uid}')
	kubectl_on "$DP" -n db delete pod "$pod" --wait=true
	wait_until "$pod recreated and Ready in DP_WEST" 300 replaced_and_ready "$DP" "$pod" "$uid"
	wait_until "dc2 Ready with the control plane down" 300 dc_ready "$DP" dc2
}

@test "control plane back: the MissionControlCluster's status catches up" {
	start_runtime "$CP"
	wait_until "dc1 Ready again" 300 dc_ready "$CP" dc1
	wait_until "the status of both datacenters" 300 kubectl_prints "$CP" "dc1:local:2:2,dc2:DP_WEST:2:2," -n db get missioncontrolcluster demo -o \
		'jsonpath={range .status.datacenters[*]}{.name}:{.context}:{.size}:{.readyReplicas},{end}'
	wait_until "the ring of four again" 300 ring_across 4
}

@test "data plane down: dc1 unaffected, dc2 shown unreachable with a condition naming DP_WEST; it recovers when back" {
	stop_runtime "$DP"
	wait_until "DataPlanesReachable False" 300 kubectl_prints "$CP" "False Unreachable" -n db get missioncontrolcluster demo -o \
		'jsonpath={.status.conditions[?(@.type=="DataPlanesReachable")].status} {.status.conditions[?(@.type=="DataPlanesReachable")].reason}'
	run kubectl_on "$CP" -n db get missioncontrolcluster demo -o 'jsonpath={.status.conditions[?(@.type=="DataPlanesReachable")].message}'
	assert_output --partial DP_WEST
	run kubectl_on "$CP" -n db get missioncontrolcluster demo -o 'jsonpath={.status.datacenters[1].name} {.status.datacenters[1].progress}'
	assert_output "dc2 Unreachable"
	dc_ready "$CP" dc1
	start_runtime "$DP"
	wait_until "DataPlanesReachable True" 300 kubectl_prints "$CP" "True" -n db get missioncontrolcluster demo -o \
		'jsonpath={.status.conditions[?(@.type=="DataPlanesReachable")].status}'
	wait_until "dc2 Ready again" 300 dc_ready "$DP" dc2
	wait_until "the ring of four again" 300 ring_across 4
}

@test "stopped: true on both datacenters stops all four pods and keeps their volumes; false brings them back with their data" {
	local before
	before=$(markers)
	[[ $(grep -o 'demo-dc[12]-r1-sts-[01]=' <<<"$before" | wc -l) == 4 ]] || fail "want four stand-ins' markers, got: $before"
	kubectl_on "$CP" -n db patch missioncontrolcluster demo --type json -p \
		'[{"op":"replace","path":"/spec/k8ssandra/cassandra/datacenters/0/stopped","value":true},{"op":"replace","path":"/spec/k8ssandra/cassandra/datacenters/1/stopped","value":true}]'
	wait_until "dc1's pods gone" 300 kubectl_prints "$CP" "" "${ALL_PODS[@]}" -o name
	wait_until "dc2's pods gone" 300 kubectl_prints "$DP" "" "${ALL_PODS[@]}" -o name
	kubectl_prints "$CP" "Bound Bound" -n db get pvc -o 'jsonpath={.items[*].status.phase}'
	kubectl_prints "$DP" "Bound Bound" -n db get pvc -o 'jsonpath={.items[*].status.phase}'
	kubectl_on "$CP" -n db patch missioncontrolcluster demo --type json -p \
		'[{"op":"replace","path":"/spec/k8ssandra/cassandra/datacenters/0/stopped","value":false},{"op":"replace","path":"/spec/k8ssandra/cassandra/datacenters/1/stopped","value":false}]'
	wait_until "dc1 Ready again" 600 dc_ready "$CP" dc1
	wait_until "dc2 Ready again" 600 dc_ready "$DP" dc2
	wait_until "the ring of four again" 300 ring_across 4
	run markers
	assert_output "$before"
}

@test "deregistering DP_WEST while the cluster uses it is refused, naming the cluster" {
	run mcctl_docs deregister --source-context DP_WEST --dest-context CP_EAST
	assert_failure 1
	assert_output --partial "DP_WEST is still used by MissionControlCluster db/demo (datacenter dc2)"
	run kubectl_on "$CP" get -n mission-control clientconfig dp-west -o name
	assert_output clientconfig.config.k8ssandra.io/dp-west
}

# no_peering HOST ADDR: HOST neither routes through ADDR (the other cluster's host) nor keeps the
# peering agent's chain, and its node names no BGP peers.
no_peering() {
	! routes_via "$1" "$2" || return 1
	! kubectl_on "$1" -n kube-system exec ds/mission-control-peering -- iptables-save -t nat | grep -q MC-PEER-PODS || return 1
	kubectl_prints "$1" "" get nodes -o 'jsonpath={.items[*].metadata.annotations.kube-router\.io/peer\.ips}'
}

@test "with the cluster deleted, deregister undoes the peering on both sides: routes withdrawn, rules and BGP peers gone" {
	kubectl_on "$CP" -n db delete missioncontrolcluster demo --wait=true --timeout=5m
	wait_until "dc2 gone from DP_WEST" 300 kubectl_prints "$DP" "" -n db get cassandradatacenter,pods -o name
	run mcctl_docs deregister --source-context DP_WEST --dest-context CP_EAST
	assert_success
	# The agents see the ConfigMap go when kubelet refreshes their volume (about a minute).
	wait_until "cp-east without DP_WEST's routes and rule" 240 no_peering "$CP" "$(host_address "$DP")"
	wait_until "dp-west without CP_EAST's routes and rule" 240 no_peering "$DP" "$(host_address "$CP")"
}
