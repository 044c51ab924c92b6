#!/usr/bin/env bats
# install-data-plane: a data plane installs with k8ssandra-operator and cass-operator but no
# mission-control-operator, and its cass-operator turns a CassandraDatacenter into a StatefulSet
# and refuses an invalid one. (Cassandra's image is not pulled here: the suite checks what the
# operators create, not a running database.)
load ../lib/suite

CIDR=10.107.0.0/16

teardown_file() {
	cleanup_installs
}

@test "install a data plane" {
	install_platform "$CP" "$CIDR" data-plane --context-name DP_WEST
}

@test "status: complete and healthy, k8ssandra-operator and cass-operator Available, no mission-control-operator" {
	run --separate-stderr mc "$CP" status -o json
	assert_success
	jq -e '.complete and .healthy and .state.mode == "data-plane" and .state.contextName == "DP_WEST"' <<<"$output"
	jq -e 'any(.components[]; .name == "k8ssandra-operator" and .available)' <<<"$output"
	jq -e 'any(.components[]; .name == "cass-operator" and .available)' <<<"$output"
	jq -e 'all(.components[]; .name != "mission-control-operator")' <<<"$output"
}

@test "cass-operator makes the StatefulSet a CassandraDatacenter asks for" {
	kubectl_on "$CP" apply -f - <"$MC_REPO/vm-tests/suites/cassandradatacenter.yaml"
	wait_until "the StatefulSet of 3 replicas" 180 kubectl_prints "$CP" 3 -n db get statefulset cl1-dc1-default-sts -o 'jsonpath={.spec.replicas}'
}

@test "cass-operator's webhook refuses an invalid CassandraDatacenter" {
	run kubectl_on "$CP" apply -f - < <(sed 's/name: dc1/name: dc2/; $a\  dseWorkloads: {analyticsEnabled: true}' "$MC_REPO/vm-tests/suites/cassandradatacenter.yaml")
	assert_failure
	assert_output --partial 'admission webhook "vcassandradatacenter.kb.io" denied the request'
}
