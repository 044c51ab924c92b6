#!/usr/bin/env bats
# install-control-plane: a control plane installs with its context name, reports itself healthy,
# runs its three operators and the CRDs of the documented API, runs pods on the chosen ranges,
# serves the Mission Control UI and API on its node port, and refuses a second install without
# touching the first. It installs the shared pair's control
# plane on a fresh host, so the suites after it use this install rather than making their own.
# shellcheck disable=SC2034
SUITE_HOSTS="cp-east dp-west" # read by run.sh and lib/suite.bash: dp-west plays the admin's workstation
SUITE_SHARED=pair:1 # read by run.sh: runs on the shared pair, first: it makes the install
load ../lib/suite

CIDR=$SHARED_CP_CIDR # pods 10.108.0.0/17, services 10.108.128.0/17

teardown_file() {
	[[ ${MC_SHARED:-} != 1 ]] || kubectl_on "$CP" delete pod,service hello --ignore-not-found --wait=true --timeout=2m || true
	cleanup_installs
}

@test "install a control plane" {
	# A fresh install, never one found on the host: the output is the install's own.
	run install_shared "$CP"
	assert_success
	assert_output --partial "Install (control-plane) complete"
}

@test "status reports it complete and healthy, with its three operators and the API Available" {
	run --separate-stderr mc "$CP" status -o json
	assert_success
	jq -e '.complete and .healthy and .runtime.healthy and (.runtime.nodes | length) == 1' <<<"$output"
	for op in mission-control-operator k8ssandra-operator cass-operator mission-control-api; do
		jq -e --arg op "$op" 'any(.components[]; .name == $op and .available)' <<<"$output" || fail "$op is not Available"
	done
}

@test "the node's pods get the pod range, Services the service range" {
	run --separate-stderr mc "$CP" status -o json
	in_range "$(jq -r '.runtime.nodes[0].podCIDR | split("/")[0]' <<<"$output")" 10.108.0.0/17
	in_range "$(kubectl_on "$CP" get service kubernetes -o 'jsonpath={.spec.clusterIP}')" 10.108.128.0/17
	wait_until "CoreDNS Ready" 180 kubectl_on "$CP" -n kube-system wait --for=condition=Ready pod -l k8s-app=kube-dns --timeout=5s
	local ip
	for ip in $(kubectl_on "$CP" -n kube-system get pods -l k8s-app=kube-dns -o 'jsonpath={.items[*].status.podIP}'); do
		in_range "$ip" 10.108.0.0/17 || fail "CoreDNS pod address $ip is not in 10.108.0.0/17"
	done
}

@test "the Mission Control UI and API answer on node port 30443 of its address, verified with the cluster's CA" {
	# As from the admin's workstation: the other host of the pair, the CA copied from the install.
	run --separate-stderr mc "$CP" admin-token -o json
	assert_success
	local url token
	url=$(jq -r .url <<<"$output")
	token=$(jq -r .token <<<"$output")
	[[ $url == "https://$(host_address "$CP"):30443/" ]] || fail "admin-token's URL is $url"
	on "$CP" cat "$DATA_DIR/k0s/pki/ca.crt" | on "$DP" sh -c 'cat > /tmp/cluster-ca.crt'
	wait_until "the UI's health" 180 testhost "$DP" https-get /tmp/cluster-ca.crt "${url}healthz"
	run testhost "$DP" https-get /tmp/cluster-ca.crt "${url}api/v1/clusters"
	assert_success
	assert_line --index 0 401
	run testhost "$DP" https-get /tmp/cluster-ca.crt "${url}api/v1/session" "$token"
	assert_success
	assert_line --index 0 200
	assert_output --partial '"user":"system:serviceaccount:mission-control:mission-control-admin"'
	run testhost "$DP" https-get /tmp/cluster-ca.crt "${url}login"
	assert_line --index 0 200
	assert_output --partial "Kubernetes token"
}

@test "the documented API's CRDs are Established" {
	local crd
	for crd in missioncontrolclusters.missioncontrol.datastax.com k8ssandraclusters.k8ssandra.io \
		clientconfigs.config.k8ssandra.io cassandradatacenters.cassandra.datastax.com; do
		kubectl_prints "$CP" True get crd "$crd" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}'
	done
}

@test "the kubeconfig's context is the --context-name" {
	kubectl_prints "$CP" CP_EAST config current-context
}

@test "a pod of an imported image answers through its Service's name" {
	run_hello "$CP"
	in_range "$(kubectl_on "$CP" get service hello -o 'jsonpath={.spec.clusterIP}')" 10.108.128.0/17
	run kubectl_on "$CP" exec hello -- /hello probe http://hello.default.svc.cluster.local/
	assert_success
	assert_output --partial "answered"
}

@test "a second install is refused and changes nothing" {
	snapshot "$CP" installed
	run mc "$CP" install --license "$MC_STAGE/license.yaml" --cidr "$CIDR" --yes
	assert_failure 1
	assert_output --partial "is already installed in $DATA_DIR"
	assert_output --partial "mission-control reset"
	unchanged_since "$CP" installed --running "$DATA_DIR"
}
