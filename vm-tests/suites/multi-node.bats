#!/usr/bin/env bats
# multi-node: a controller on cp-east (its license covers two nodes) and workers joining it. A
# worker joins with the token node join-command prints; the pod network routes between the nodes
# (pod IPs, a ClusterIP Service) and enforces NetworkPolicy across them; an expired token and a
# join past the license's node limit are refused and leave the host as it was; a worker reset
# leaves the cluster and joins again; node remove drains and deletes a node from the controller.
# shellcheck disable=SC2034
SUITE_HOSTS="cp-east worker-1 worker-2" # read by run.sh and lib/suite.bash
load ../lib/suite

CIDR=10.110.0.0/16
LICENSE=$MC_STAGE/licenses/two-nodes.yaml
W1=${HOSTS[1]:-}
W2=${HOSTS[2]:-}

teardown_file() {
	cleanup_installs
}

# join_worker HOST TOKEN-FILE: join HOST with the controller's token file; cleanup resets it.
join_worker() {
	join_with "$CP" "$2" "$1" "$LICENSE"
}

# nodes_ready N: the controller sees N nodes, every one Ready.
nodes_ready() {
	local ready
	ready=$(kubectl_on "$CP" get nodes -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}')
	[[ $ready == "$(printf 'True %.0s' $(seq "$1"))" ]]
}

# dial_until FROM ADDR WANT: pod FROM (namespace mn) finds ADDR WANT (open or closed) within a
# minute: kube-router applies a policy change within seconds.
dial_until() {
	local i
	for i in $(seq 30); do
		kubectl_on "$CP" -n mn exec "$1" -- /hello dial "$2" | grep -q "^$3 " && return 0
		sleep 2
	done
	echo "pod $1 did not find $2 $3 within a minute" >&2
	return 1
}

@test "install a controller whose license covers two nodes" {
	install_platform "$CP" "$CIDR" control-plane --context-name CP_EAST --license "$LICENSE"
	run mc "$CP" status
	assert_success
	assert_output --partial "control-plane, controller node: complete"
	assert_output --regexp "node: +cp-east \(controller\)"
}

@test "node join-command prints the command, the token's expiry and the CA pin; a one-minute token is kept for later" {
	run mc "$CP" node join-command --role worker --out /tmp/worker.token
	assert_success
	assert_output --regexp "Join a worker to the cluster at https://[0-9.]+:6443 \(token [a-z0-9]{6}, valid until .*; CA sha256:[0-9a-f]{64}\)"
	assert_output --partial "sudo mission-control join --license license.yaml /tmp/worker.token"
	run on "$CP" stat -c %a /tmp/worker.token
	assert_output 600
	mc "$CP" node join-command --role worker --expiry 1m --out /tmp/short.token >/dev/null
	date +%s >"$BATS_FILE_TMPDIR/short-token-made"
	run mc "$CP" node join-command --role worker --expiry 200h
	assert_failure
	assert_output --partial "--expiry 200h0m0s: give between 1m and 168h"
}

@test "a worker joins: both nodes Ready, with their roles in status on either host" {
	run join_worker "$W1" /tmp/worker.token
	assert_success
	assert_output --partial "Join (control-plane) complete"
	wait_until "both nodes Ready" 240 nodes_ready 2
	run mc "$CP" status
	assert_success
	assert_output --regexp "node: +worker-1 \(worker\) [0-9.]+, Ready"
	run mc "$W1" status
	assert_success
	assert_output --partial "control-plane, worker node: complete"
	# The worker has the runtime only: no admin kubeconfig, no operators.
	run on "$W1" test -e "$DATA_DIR/kubeconfig"
	assert_failure
}

@test "a pod on each node reaches the other by pod IP and through a ClusterIP Service" {
	for host in "$CP" "$W1"; do
		on "$host" cp "$MC_STAGE/images/hello.tar" "$DATA_DIR/k0s/images/hello.tar"
	done
	kubectl_on "$CP" create namespace mn
	for node in cp-east worker-1; do
		kubectl_on "$CP" -n mn apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hello-$node, labels: {app: hello-$node}}
spec:
  nodeName: $node
  containers:
  - name: hello
    image: localhost/mission-control-e2e/hello:1
    imagePullPolicy: Never
    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: hello-$node}
spec:
  selector: {app: hello-$node}
  ports: [{port: 80, targetPort: 8080}]
EOF
	done
	kubectl_on "$CP" -n mn wait --for=condition=Ready pod/hello-cp-east pod/hello-worker-1 --timeout=180s
	local ip_cp ip_w1
	ip_cp=$(kubectl_on "$CP" -n mn get pod hello-cp-east -o 'jsonpath={.status.podIP}')
	ip_w1=$(kubectl_on "$CP" -n mn get pod hello-worker-1 -o 'jsonpath={.status.podIP}')
	in_range "$ip_cp" "$CIDR"
	in_range "$ip_w1" "$CIDR"
	run kubectl_on "$CP" -n mn exec hello-cp-east -- /hello dial "$ip_w1:8080"
	assert_output "open $ip_w1:8080"
	run kubectl_on "$CP" -n mn exec hello-worker-1 -- /hello dial "$ip_cp:8080"
	assert_output "open $ip_cp:8080"
	run kubectl_on "$CP" -n mn exec hello-cp-east -- /hello probe http://hello-worker-1.mn.svc/
	assert_success
	run kubectl_on "$CP" -n mn exec hello-worker-1 -- /hello probe http://hello-cp-east.mn.svc/
	assert_success
}

@test "NetworkPolicy holds across nodes: only the pods it admits reach the worker's pod" {
	kubectl_on "$CP" -n mn apply -f - <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-friends}
spec:
  podSelector: {matchLabels: {app: hello-worker-1}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {friend: "true"}}}], ports: [{port: 8080}]}]
EOF
	local ip_w1
	ip_w1=$(kubectl_on "$CP" -n mn get pod hello-worker-1 -o 'jsonpath={.status.podIP}')
	dial_until hello-cp-east "$ip_w1:8080" closed
	kubectl_on "$CP" -n mn label pod hello-cp-east friend=true
	dial_until hello-cp-east "$ip_w1:8080" open
}

@test "a join with an expired token is refused, and the host is left as it was" {
	local made now
	made=$(cat "$BATS_FILE_TMPDIR/short-token-made")
	now=$(date +%s)
	((now - made >= 65)) || sleep $((65 - (now - made)))
	copy_token "$CP" /tmp/short.token "$W2"
	run mc "$W2" join --license "$LICENSE" "$MC_STAGE/join.token" --yes
	assert_failure
	assert_output --partial "refused the join token"
	assert_output --partial "node join-command --role worker"
	run on "$W2" test -e "$DATA_DIR/install.yaml"
	assert_failure
}

@test "the license's node limit: join-command and a join past it are refused" {
	run mc "$CP" node join-command --role worker
	assert_failure
	assert_output --partial "license L-VMT-TWO-NODES covers 2 nodes and the cluster has 2"
	# A token made before the cluster was full: the join itself counts the nodes.
	copy_token "$CP" /tmp/worker.token "$W2"
	run mc "$W2" join --license "$LICENSE" "$MC_STAGE/join.token" --yes
	assert_failure
	assert_output --partial "license L-VMT-TWO-NODES covers 2 nodes and the cluster has 2 (cp-east, worker-1)"
	run on "$W2" test -e "$DATA_DIR/install.yaml"
	assert_failure
}

@test "a worker reset drains it and leaves the cluster; it joins again" {
	run mc "$W1" reset --yes
	assert_success
	assert_output --partial "node worker-1 drained"
	assert_output --partial "removed from the cluster"
	run kubectl_on "$CP" get node worker-1
	assert_failure
	run kubectl_on "$CP" -n mn get pod hello-worker-1
	assert_failure
	mc "$CP" node join-command --role worker --out /tmp/worker.token >/dev/null
	join_worker "$W1" /tmp/worker.token
	wait_until "both nodes Ready again" 240 nodes_ready 2
}

@test "node remove drains and deletes a worker from the controller's side" {
	run mc "$CP" node remove cp-east
	assert_failure
	assert_output --partial "is this controller"
	run mc "$CP" node remove worker-1
	assert_success
	assert_output --partial "node worker-1 drained"
	run kubectl_on "$CP" get node worker-1
	assert_failure
	# The host, reset now, finds its node gone and says so.
	run mc "$W1" reset --yes
	assert_success
}
