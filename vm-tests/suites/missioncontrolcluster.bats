#!/usr/bin/env bats
# missioncontrolcluster: the product docs' MissionControlCluster example, unchanged
# (examples/missioncontrolcluster.yaml), applied to a control plane named CP_EAST becomes a
# K8ssandraCluster with both its datacenters, internode certificates and stores, and
# k8ssandra-operator's first CassandraDatacenter; deleting it removes what the operator wrote.
# shellcheck disable=SC2034
SUITE_SHARED=pair:4 # read by run.sh: runs on the shared pair, before register
load ../lib/suite

teardown_file() {
	[[ ${MC_SHARED:-} != 1 ]] || kubectl_on "$CP" delete namespace demo --ignore-not-found --wait=true --timeout=2m || true
	cleanup_installs
}

@test "install a control plane named CP_EAST, as the example's dc2 names it" {
	install_shared "$CP"
}

@test "mcctl lists no data planes yet" {
	run on "$CP" "$MC_STAGE/mcctl" dataplanes --dest-kubeconfig "$DATA_DIR/kubeconfig" --dest-context CP_EAST
	assert_success
	assert_output --regexp '^NAME +CONTEXT +SERVER +NAMESPACES +TOKEN EXPIRES +REACHABLE$'
}

@test "apply the docs' example" {
	kubectl_on "$CP" create namespace demo
	kubectl_on "$CP" apply -f - <"$MC_REPO/examples/missioncontrolcluster.yaml"
}

@test "it becomes a K8ssandraCluster with dc1 and dc2" {
	wait_until "the K8ssandraCluster" 180 kubectl_prints "$CP" "dc1 dc2" -n demo get k8ssandracluster demo -o 'jsonpath={.spec.cassandra.datacenters[*].metadata.name}'
}

@test "its data planes are reachable and its certificates ready" {
	wait_until "DataPlanesReachable and CertificatesReady" 180 kubectl_prints "$CP" "True True" -n demo get missioncontrolcluster demo -o \
		'jsonpath={.status.conditions[?(@.type=="DataPlanesReachable")].status} {.status.conditions[?(@.type=="CertificatesReady")].status}'
	wait_until "the internode stores" 180 kubectl_prints "$CP" "demo-keystore demo-truststore" -n demo get secret demo-keystore demo-truststore -o 'jsonpath={.items[*].metadata.name}'
}

@test "k8ssandra-operator makes CassandraDatacenter dc1" {
	wait_until "CassandraDatacenter dc1" 180 kubectl_prints "$CP" dc1 -n demo get cassandradatacenter dc1 -o 'jsonpath={.metadata.name}'
}

@test "deleting it removes what the operator wrote" {
	kubectl_on "$CP" -n demo delete missioncontrolcluster demo --wait=true --timeout=2m
	wait_until "the operator's Secrets deleted" 120 kubectl_prints "$CP" "" -n demo get secret -l missioncontrol.datastax.com/cluster=demo -o name
}
