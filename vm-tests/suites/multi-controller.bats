#!/usr/bin/env bats
# multi-controller: controllers joining the first one, so that etcd has three members and the
# cluster's API survives one controller down. Two controllers are warned about (they tolerate no
# more down than one). The docs' datacenter spreads over the three nodes, one Cassandra stand-in
# per node, each volume made on its pod's node, and scales from 2 to 3. A controller's reset removes its node and its etcd member while others
# remain, node remove does the same from another controller, and the last one takes the cluster.
# shellcheck disable=SC2034
SUITE_HOSTS="ctl-1 ctl-2 ctl-3" # read by run.sh and lib/suite.bash
load ../lib/suite

CIDR=10.111.0.0/16
C2=${HOSTS[1]:-}
C3=${HOSTS[2]:-}

teardown_file() {
	cleanup_installs
}

# join_controller HOST FROM: join HOST as a controller, with a token made on controller FROM.
join_controller() {
	mc "$2" node join-command --role controller --out /tmp/controller.token >/dev/null 2>&1
	join_with "$2" /tmp/controller.token "$1" "$MC_STAGE/license.yaml"
}

# nodes_ready HOST N: HOST's API lists N nodes, every one Ready.
nodes_ready() {
	local ready
	ready=$(kubectl_on "$1" get nodes -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}')
	[[ $ready == "$(printf 'True %.0s' $(seq "$2"))" ]]
}

@test "install the first controller; node join-command --role controller warns that two controllers tolerate none down" {
	install_platform "$CP" "$CIDR" control-plane --context-name CP_EAST
	run mc "$CP" status
	assert_success
	assert_output --partial "etcd:      1 members (ctl-1): quorum 1, tolerates 0 down"
	run mc "$CP" node join-command --role controller --out /tmp/controller.token
	assert_success
	assert_output --regexp "Join a controller to the cluster at https://[0-9.]+:9443 \(token [a-z0-9]{6}"
	assert_output --partial "Warning: with 2 controllers etcd needs 2 of them up (tolerates 0 down, as 1 controllers would): either one down stops the cluster's API; join a third controller to tolerate one down"
	run mc "$CP" node join-command --role master
	assert_failure
	assert_output --partial '--role "master": give --role worker or --role controller'
}

@test "a second controller joins: its own API serves the cluster, etcd has two members and status warns" {
	run join_controller "$C2" "$CP"
	assert_success
	assert_output --partial "with 2 controllers etcd needs 2 of them up"
	assert_output --partial "Join (control-plane) complete"
	wait_until "both nodes Ready" 240 nodes_ready "$C2" 2
	run mc "$C2" status
	assert_success
	assert_output --partial "control-plane, controller node: complete"
	assert_output --regexp "node: +ctl-1 \(controller\) [0-9.]+, Ready"
	assert_output --regexp "node: +ctl-2 \(controller\) [0-9.]+, Ready"
	assert_output --partial "etcd:      2 members (ctl-1, ctl-2): quorum 2, tolerates 0 down"
	assert_output --partial "WARNING:   with 2 controllers"
	# The joined controller has the admin kubeconfig, with its own address.
	run on "$C2" grep -c "server: https://$(mc "$C2" status -o json | jq -r .state.nodeAddress):6443" "$DATA_DIR/kubeconfig"
	assert_output 1
}

@test "a third controller joins with a token from the second: three etcd members tolerate one down" {
	run join_controller "$C3" "$C2"
	assert_success
	refute_output --partial "with 3 controllers"
	wait_until "three nodes Ready" 240 nodes_ready "$CP" 3
	run mc "$CP" status
	assert_success
	assert_output --partial "etcd:      3 members (ctl-1, ctl-2, ctl-3): quorum 2, tolerates 1 down"
	refute_output --partial "WARNING"
}

# volumes_on_pods_nodes: every dc1 pod's volume is bound to the pod's node, and its directory is
# on that node's host.
volumes_on_pods_nodes() {
	local pod node pv bound
	for pod in $(kubectl_on "$CP" "${DC1_PODS[@]}" -o 'jsonpath={.items[*].metadata.name}'); do
		node=$(kubectl_on "$CP" -n db get pod "$pod" -o 'jsonpath={.spec.nodeName}')
		pv=$(kubectl_on "$CP" -n db get pvc "server-data-$pod" -o 'jsonpath={.spec.volumeName}')
		bound=$(kubectl_on "$CP" get pv "$pv" -o 'jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}')
		[[ $bound == "$node" ]] || { echo "$pod runs on $node and its volume $pv is bound to '$bound'" && return 1; }
		on "$node" test -d "$DATA_DIR/storage/db_server-data-${pod}_$pv" || { echo "no directory of $pv on $node" && return 1; }
	done
}

@test "the docs' datacenter spreads over the nodes, one stand-in each, volumes on their pods' nodes; it scales from 2 to 3" {
	local host image
	for host in "$CP" "$C2" "$C3"; do
		for image in cassandra-standin system-logger-standin config-builder-standin; do
			on "$host" cp "$MC_STAGE/images/$image.tar" "$DATA_DIR/k0s/images/$image.tar"
		done
	done
	kubectl_on "$CP" create namespace db
	# The database suite's manifest less its one-node allowance: cass-operator's own anti-affinity
	# places one Cassandra pod per node, as the docs' clusters run.
	grep -v softPodAntiAffinity "$MC_REPO/vm-tests/suites/database.yaml" | kubectl_on "$CP" apply -f -
	wait_until "dc1 Ready with 2" 600 kubectl_prints "$CP" "dc1 2 2" -n db get missioncontrolcluster demo -o \
		'jsonpath={.status.datacenters[0].name} {.status.datacenters[0].size} {.status.datacenters[0].readyReplicas}'
	wait_until "two stand-ins in one ring" 180 ring_joined "$CP" 2
	volumes_on_pods_nodes
	kubectl_on "$CP" -n db patch missioncontrolcluster demo --type json \
		-p '[{"op": "replace", "path": "/spec/k8ssandra/cassandra/datacenters/0/size", "value": 3}]'
	wait_until "dc1 Ready with 3" 600 kubectl_prints "$CP" "dc1 3 3" -n db get missioncontrolcluster demo -o \
		'jsonpath={.status.datacenters[0].name} {.status.datacenters[0].size} {.status.datacenters[0].readyReplicas}'
	wait_until "three stand-ins in one ring" 180 ring_joined "$CP" 3
	volumes_on_pods_nodes
	run kubectl_on "$CP" "${DC1_PODS[@]}" -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}'
	assert_equal "$(sort -u <<<"$output" | paste -sd' ')" "ctl-1 ctl-2 ctl-3"
	# Gone before controllers leave: a drain keeps the datacenter's PodDisruptionBudget.
	kubectl_on "$CP" -n db delete missioncontrolcluster demo --wait=true --timeout=5m
	wait_until "the datacenter's pods and volumes gone" 300 kubectl_prints "$CP" "" -n db get pods,pvc -o name
}

@test "with the first controller down the others still serve the cluster and take writes; it comes back" {
	stop_runtime "$CP"
	run kubectl_on "$C2" create configmap written-while-ctl-1-down --from-literal=at=now
	assert_success
	run kubectl_on "$C3" get configmap written-while-ctl-1-down -o 'jsonpath={.data.at}'
	assert_output now
	on "$CP" systemctl start mission-control-k0s.service
	wait_until "ctl-1 to be healthy again" 240 mc "$CP" status -q
	run kubectl_on "$CP" get configmap written-while-ctl-1-down -o 'jsonpath={.data.at}'
	assert_output now
}

@test "a controller's reset leaves the cluster: its node drained and deleted, its etcd member removed" {
	run mc "$C3" reset --yes
	assert_success
	assert_output --partial "node ctl-3 drained"
	assert_output --partial "its etcd member left (2 controllers remain)"
	run kubectl_on "$CP" get node ctl-3
	assert_failure
	run mc "$CP" status
	assert_output --partial "etcd:      2 members (ctl-1, ctl-2)"
}

@test "node remove takes a controller out from another: node and etcd member; the last controller's reset ends the cluster" {
	run mc "$CP" node remove ctl-2
	assert_success
	assert_output --partial "node ctl-2 drained"
	assert_output --partial "its etcd member was removed"
	run kubectl_on "$CP" get node ctl-2
	assert_failure
	# The operators the drain moved off ctl-2 start again on ctl-1.
	wait_until "ctl-1 healthy, the moved operators up again" 240 mc "$CP" status -q
	run mc "$CP" status
	assert_success
	assert_output --partial "etcd:      1 members (ctl-1): quorum 1, tolerates 0 down"
	# The removed host's runtime has no cluster any more: its reset says so and cleans up.
	run mc "$C2" reset --yes
	assert_success
	run mc "$C2" status -q
	assert_failure 3 # not installed
	run mc "$CP" reset --yes
	assert_success
	assert_output --partial "the cluster's last controller: the cluster ends with it"
}
