#!/usr/bin/env bats
# register: a data plane (dp-west) registered with a control plane (cp-east) by mcctl; a
# MissionControlCluster on the control plane with a datacenter in DP_WEST becomes a
# K8ssandraCluster and a CassandraDatacenter there; deregistering removes the access.
# shellcheck disable=SC2034
SUITE_HOSTS="cp-east dp-west" # read by run.sh and lib/suite.bash
# shellcheck disable=SC2034
SUITE_SHARED=pair:5
load ../lib/suite

teardown_file() {
	if [[ ${MC_SHARED:-} == 1 ]]; then
		kubectl_on "$CP" delete namespace demo --ignore-not-found --wait=true --timeout=2m || true
		kubectl_on "$DP" delete namespace demo --ignore-not-found --wait=true --timeout=2m || true
	fi
	cleanup_installs
}

@test "install a control plane on cp-east and a data plane on dp-west" {
	install_shared "$CP"
	install_shared "$DP"
}

@test "mcctl register, with the data plane's kubeconfig on the control plane's host" {
	on "$DP" cat "$DATA_DIR/kubeconfig" | on "$CP" sh -c "umask 077 && cat >'$MC_STAGE/dp-west.kubeconfig'"
	local address
	address=$(mc "$DP" status -o json | jq -r .state.nodeAddress)
	run on "$CP" "$MC_STAGE/mcctl" register --source-kubeconfig "$MC_STAGE/dp-west.kubeconfig" --source-context DP_WEST \
		--dest-kubeconfig "$DATA_DIR/kubeconfig" --dest-context CP_EAST --source-server "https://$address:6443" --database-namespaces demo
	assert_success
	assert_output --partial "Its credential acts in DP_WEST's namespaces demo only."
	# On the control plane: a ClientConfig for DP_WEST naming a Secret whose kubeconfig reaches the
	# data plane's address; on the data plane: the identity that kubeconfig authenticates as.
	run kubectl_on "$CP" -n mission-control get clientconfig dp-west -o 'jsonpath={.spec.contextName} {.spec.kubeConfigSecret.name}'
	assert_output "DP_WEST dp-west-config"
	run kubectl_on "$CP" -n mission-control get secret dp-west-config -o 'jsonpath={.data.kubeconfig}'
	assert_success
	run base64 -d <<<"$output"
	assert_output --partial "server: https://$address:6443"
	assert_output --partial "current-context: DP_WEST"
	run kubectl_on "$DP" -n mission-control get serviceaccount control-plane-cp-east -o name
	assert_output serviceaccount/control-plane-cp-east
	# Its rights: a Role in demo only, no Secret it may read, and only the operator's to write.
	run kubectl_on "$DP" auth can-i --list -n demo --as system:serviceaccount:mission-control:control-plane-cp-east
	assert_line --regexp '^k8ssandraclusters.k8ssandra.io +\[\] +\[\] +\[get create update patch delete\]$'
	assert_line --regexp '^secrets +\[\] +\[\] +\[create update delete\]$'
	run kubectl_on "$DP" auth can-i get secrets -n demo --as system:serviceaccount:mission-control:control-plane-cp-east
	assert_output no
	run kubectl_on "$DP" auth can-i create k8ssandraclusters.k8ssandra.io -n kube-system --as system:serviceaccount:mission-control:control-plane-cp-east
	assert_output no
	run kubectl_on "$DP" get validatingadmissionpolicy mission-control-data-plane-cp-east -o name
	assert_output validatingadmissionpolicy.admissionregistration.k8s.io/mission-control-data-plane-cp-east
}

@test "the control plane lists DP_WEST as reachable" {
	run on "$CP" "$MC_STAGE/mcctl" dataplanes --dest-kubeconfig "$DATA_DIR/kubeconfig" --dest-context CP_EAST
	assert_success
	assert_line --regexp '^dp-west +DP_WEST +https://[0-9.]+:6443 +demo +[0-9]{4}-[0-9]{2}-[0-9]{2} +yes$'
}

@test "a MissionControlCluster with a datacenter in DP_WEST becomes a CassandraDatacenter there" {
	kubectl_on "$CP" create namespace demo
	kubectl_on "$CP" apply -f - <"$MC_REPO/vm-tests/suites/missioncontrolcluster-dp-west.yaml"
	wait_until "DataPlanesReachable" 180 kubectl_prints "$CP" True -n demo get missioncontrolcluster demo -o 'jsonpath={.status.conditions[?(@.type=="DataPlanesReachable")].status}'
	wait_until "the K8ssandraCluster in DP_WEST" 180 kubectl_prints "$DP" demo -n demo get k8ssandracluster demo -o 'jsonpath={.metadata.name}'
	wait_until "CassandraDatacenter dc2 in DP_WEST" 300 kubectl_prints "$DP" dc2 -n demo get cassandradatacenter dc2 -o 'jsonpath={.metadata.name}'
}

@test "deleting it removes the K8ssandraCluster from DP_WEST" {
	kubectl_on "$CP" -n demo delete missioncontrolcluster demo --wait=true --timeout=3m
	wait_until "the K8ssandraCluster gone from DP_WEST" 180 kubectl_prints "$DP" "" -n demo get k8ssandracluster -o name
}

@test "mcctl deregister removes the registration from both clusters" {
	run on "$CP" "$MC_STAGE/mcctl" deregister --source-kubeconfig "$MC_STAGE/dp-west.kubeconfig" --source-context DP_WEST \
		--dest-kubeconfig "$DATA_DIR/kubeconfig" --dest-context CP_EAST
	assert_success
	run on "$CP" "$MC_STAGE/mcctl" dataplanes --dest-kubeconfig "$DATA_DIR/kubeconfig" --dest-context CP_EAST
	refute_output --partial DP_WEST
	run kubectl_on "$CP" -n mission-control get clientconfigs,secrets -o name
	refute_output --partial dp-west
	run kubectl_on "$DP" -n mission-control get serviceaccounts,secrets -o name
	refute_output --partial control-plane-cp-east
	run kubectl_on "$DP" get roles,rolebindings -A -o name
	refute_output --partial mission-control-data-plane-cp-east
	run kubectl_on "$DP" get validatingadmissionpolicies,validatingadmissionpolicybindings -o name
	refute_output --partial mission-control-data-plane-cp-east
	on "$CP" rm -f "$MC_STAGE/dp-west.kubeconfig"
	# k8ssandra-operator restarts itself when its ClientConfigs change; the control plane is whole
	# again once it is back.
	wait_until "the control plane healthy after deregister" 180 mc "$CP" status -q
}
