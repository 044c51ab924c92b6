#!/usr/bin/env bats
# database: a datacenter of Cassandra stand-ins (test doubles built from e2e/standin: the real
# images cannot be had here) on the shared control plane. The docs' MissionControlCluster, dc1
# only with single-node allowances (suites/database.yaml), reaches Ready: two pods in one ring
# over mutual TLS on 7001, their volumes Bound, the superuser Secret, the datacenter's size in
# the MissionControlCluster's status. A support bundle of the running datacenter holds the
# CassandraDatacenter, its pods and the stand-ins' logs. Deleting it cleans up.
# shellcheck disable=SC2034
SUITE_SHARED=pair:6 # read by run.sh: runs on the shared pair, before support-bundle stops its runtime
load ../lib/suite

BUNDLE=$MC_STAGE/database-bundle.tar.gz
EXTRACTED=$MC_STAGE/database-bundle

teardown_file() {
	if [[ ${MC_SHARED:-} == 1 ]]; then
		# The cluster first, while its pods still answer the operators' finalizers; then the rest.
		kubectl_on "$CP" -n db delete missioncontrolcluster --all --ignore-not-found --wait=true --timeout=5m || true
		kubectl_on "$CP" delete namespace db --ignore-not-found --wait=true --timeout=5m || true
	fi
	on "$CP" rm -rf "$BUNDLE" "$EXTRACTED" || true
	cleanup_installs
}

@test "install a control plane, with the stand-ins' images on its node" {
	install_shared "$CP"
	local image
	for image in cassandra-standin system-logger-standin config-builder-standin; do
		on "$CP" cp "$MC_STAGE/images/$image.tar" "$DATA_DIR/k0s/images/$image.tar"
	done
}

@test "the docs' MissionControlCluster, dc1 on this node, reaches Ready" {
	kubectl_on "$CP" create namespace db
	kubectl_on "$CP" apply -f - <"$MC_REPO/vm-tests/suites/database.yaml"
	wait_until "CassandraDatacenter dc1 Ready" 600 kubectl_prints "$CP" "True Ready" -n db get cassandradatacenter dc1 -o \
		'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.cassandraOperatorProgress}'
}

@test "its two pods are one ring over mutual TLS, their volumes Bound, the superuser Secret made" {
	wait_until "both stand-ins in one ring over TLS on 7001" 120 ring_joined "$CP" 2
	wait_until "the volumes Bound" 60 kubectl_prints "$CP" "Bound Bound" -n db get pvc -o 'jsonpath={.items[*].status.phase}'
	wait_until "the superuser Secret" 60 kubectl_prints "$CP" demo-superuser -n db get secret demo-superuser -o 'jsonpath={.metadata.name}'
	wait_until "the MissionControlCluster's status" 120 kubectl_prints "$CP" "dc1 2 2" -n db get missioncontrolcluster demo -o \
		'jsonpath={.status.datacenters[0].name} {.status.datacenters[0].size} {.status.datacenters[0].readyReplicas}'
}

@test "a support bundle of the running datacenter holds it, its pods and the stand-ins' logs" {
	run mc "$CP" support-bundle --out "$BUNDLE"
	assert_success
	on "$CP" sh -c "rm -rf '$EXTRACTED' && mkdir '$EXTRACTED' && tar -xzf '$BUNDLE' -C '$EXTRACTED'"
	local top=$EXTRACTED/database-bundle pod container # the archive unpacks into its own name
	run on "$CP" sh -c "cat '$top'/cluster-resources/custom-resources/cassandradatacenters.cassandra.datastax.com/db.*"
	assert_output --partial "cassandraOperatorProgress"
	assert_output --partial "Ready"
	# k8ssandra-operator writes the internode stores' password into the datacenter's spec.
	local password
	password=$(kubectl_on "$CP" -n db get cassandradatacenter dc1 -o 'jsonpath={.spec.config.cassandra-yaml.server_encryption_options.keystore_password}')
	[[ ${#password} -gt 8 ]] || fail "no keystore password in dc1's spec"
	run on "$CP" grep -rl -- "$password" "$top"
	assert_failure 1 # grep found nothing: redacted
	for pod in $(kubectl_on "$CP" "${DC1_PODS[@]}" -o 'jsonpath={.items[*].metadata.name}'); do
		run on "$CP" cat "$top/cluster-resources/pods/db.json"
		assert_output --partial "\"name\": \"$pod\""
		for container in cassandra server-system-logger; do
			run on "$CP" cat "$top/cluster-resources/pods/logs/db/$pod/$container.log"
			assert_output --partial "started: joining the ring"
		done
	done
}

@test "deleting the MissionControlCluster removes the datacenter, its pods and volumes" {
	kubectl_on "$CP" -n db delete missioncontrolcluster demo --wait=true --timeout=5m
	wait_until "the datacenter and its pods gone" 300 kubectl_prints "$CP" "" -n db get k8ssandracluster,cassandradatacenter,pods -o name
	# cass-operator deletes a deleted datacenter's claims; their volumes go with them (reclaim Delete).
	wait_until "the claims gone" 120 kubectl_prints "$CP" "" -n db get pvc -o name
	wait_until "the volumes gone" 120 kubectl_prints "$CP" "" get pv -o 'jsonpath={.items[?(@.spec.claimRef.namespace=="db")].metadata.name}'
}
