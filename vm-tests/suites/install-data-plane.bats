#!/usr/bin/env bats
# install-data-plane: a data plane installs with k8ssandra-operator and cass-operator but no
# mission-control-operator, and its cass-operator turns a CassandraDatacenter into a StatefulSet
# and refuses an invalid one. (Cassandra's image is not pulled here: the suite checks what the
# operators create, not a running database.) A claim of the docs' shape binds to a volume made
# under the data dir of the node its pod runs on. It installs the shared pair's data plane on a fresh
# host, so the suites after it use this install rather than making their own.
# shellcheck disable=SC2034
SUITE_HOSTS="cp-east dp-west" # read by run.sh and lib/suite.bash
# shellcheck disable=SC2034
SUITE_SHARED=pair:2 # read by run.sh: runs on the shared pair, second: it makes the data plane
load ../lib/suite

teardown_file() {
	if [[ ${MC_SHARED:-} == 1 ]]; then
		kubectl_on "$DP" delete namespace db --ignore-not-found --wait=true --timeout=2m || true
		kubectl_on "$DP" delete pod,pvc keeper data --ignore-not-found --wait=true --timeout=2m || true
	fi
	cleanup_installs
}

# telemetry_status URL: the status preflight on the data plane's host gives the aggregator at URL.
telemetry_status() {
	mc "$DP" preflight --mode data-plane --cidr "$SHARED_DP_CIDR" --telemetry-aggregator-url "$1" -o json |
		jq -r '.results[] | select(.check == "telemetry aggregator") | "\(.status) \(.message)"'
}

@test "preflight dials the telemetry aggregator's address when given: it passes when that answers, and only warns when not" {
	local address
	address=$(host_address "$CP"):30600
	testhost "$CP" hold-port 30600 >"$BATS_FILE_TMPDIR/holder"
	run --separate-stderr telemetry_status "http://$address"
	on "$CP" kill "$(cat "$BATS_FILE_TMPDIR/holder")"
	assert_output "pass reached $address"
	run --separate-stderr telemetry_status "http://$address"
	assert_output --partial "warn $address does not answer: dial tcp $address: connect: connection refused"
}

@test "install a data plane" {
	# A fresh install, never one found on the host: the output is the install's own.
	run install_shared "$DP"
	assert_success
	assert_output --partial "Install (data-plane) complete"
}

@test "status: complete and healthy, k8ssandra-operator and cass-operator Available, no mission-control-operator" {
	run --separate-stderr mc "$DP" status -o json
	assert_success
	jq -e '.complete and .healthy and .state.mode == "data-plane" and .state.contextName == "DP_WEST"' <<<"$output"
	jq -e --arg url "http://$(host_address "$CP"):30600" '.state.telemetryAggregatorURL == $url' <<<"$output"
	jq -e 'any(.components[]; .name == "k8ssandra-operator" and .available)' <<<"$output"
	jq -e 'any(.components[]; .name == "cass-operator" and .available)' <<<"$output"
	jq -e 'all(.components[]; .name != "mission-control-operator" and .name != "mission-control-api")' <<<"$output"
}

@test "cass-operator makes the StatefulSet a CassandraDatacenter asks for" {
	kubectl_on "$DP" apply -f - <"$MC_REPO/vm-tests/suites/cassandradatacenter.yaml"
	wait_until "the StatefulSet of 3 replicas" 180 kubectl_prints "$DP" 3 -n db get statefulset cl1-dc1-default-sts -o 'jsonpath={.spec.replicas}'
}

@test "cass-operator's webhook refuses an invalid CassandraDatacenter" {
	run kubectl_on "$DP" apply -f - < <(sed 's/name: dc1/name: dc2/; $a\  dseWorkloads: {analyticsEnabled: true}' "$MC_REPO/vm-tests/suites/cassandradatacenter.yaml")
	assert_failure
	assert_output --partial 'admission webhook "vcassandradatacenter.kb.io" denied the request'
}

@test "a claim of the docs' shape binds to a volume under the data dir of its pod's node" {
	on "$DP" sh -c "test -e '$DATA_DIR/k0s/images/hello.tar' || cp '$MC_STAGE/images/hello.tar' '$DATA_DIR/k0s/images/hello.tar'"
	kubectl_on "$DP" apply -f - <"$MC_REPO/vm-tests/suites/volume.yaml"
	wait_until "the keeper pod Ready" 180 kubectl_on "$DP" wait --for=condition=Ready pod/keeper --timeout=5s
	kubectl_prints "$DP" "wrote kept" logs keeper
	local pv node
	pv=$(kubectl_on "$DP" get pvc data -o 'jsonpath={.spec.volumeName}')
	node=$(kubectl_on "$DP" get pod keeper -o 'jsonpath={.spec.nodeName}')
	run on "$DP" cat "$DATA_DIR/storage/default_data_$pv/marker"
	assert_output kept
	run on "$DP" cat "$DATA_DIR/storage/default_data_$pv.volume.json"
	assert_output --partial "\"node\": \"$node\""
	kubectl_prints "$DP" Bound get pvc data -o 'jsonpath={.status.phase}'
	# The CassandraDatacenter above has a volume too (its one schedulable pod): all on this node.
	run --separate-stderr mc "$DP" status -o json
	jq -e '.storage.volumes >= 1 and .storage.bound == .storage.volumes and .storage.localVolumes == .storage.volumes' <<<"$output"
}
