#!/usr/bin/env bats
# reinstall-cidr: the way to change an install's range is reset, then install on the new one, at
# once: afterwards nodes, pods and Services use the new range, nothing of the old one is left in
# routes or rulesets; a final reset, with a workload running, removes the install and the
# runtime's service and leaves the host as it was before the first install (reset.bats does the
# same for an install killed halfway).
load ../lib/suite

OLD=10.113.0.0/16
NEW=10.114.0.0/16 # pods 10.114.0.0/17, services 10.114.128.0/17

teardown_file() {
	cleanup_installs
}

@test "install on the first range" {
	guard "$CP" "$OLD" "$NEW" # both ranges' from the start: nothing may come between reset and install
	snapshot "$CP" before
	install_platform "$CP" "$OLD" control-plane
}

@test "installing on another range is refused until reset" {
	run mc "$CP" install --license "$MC_STAGE/license.yaml" --cidr "$NEW" --yes
	assert_failure 1
	assert_output --partial "is already installed in $DATA_DIR with"
	assert_output --partial "run mission-control reset first to reinstall differently"
}

@test "reset, then at once install on the new range" {
	mc "$CP" reset --yes
	install_platform "$CP" "$NEW" control-plane
}

@test "the node, pods and Services use the new range" {
	run --separate-stderr mc "$CP" status -o json
	jq -e '.state.cidr == "10.114.0.0/16" and .state.podCIDR == "10.114.0.0/17" and .state.serviceCIDR == "10.114.128.0/17"' <<<"$output"
	in_range "$(jq -r '.runtime.nodes[0].podCIDR | split("/")[0]' <<<"$output")" 10.114.0.0/17
	in_range "$(kubectl_on "$CP" get service kubernetes -o 'jsonpath={.spec.clusterIP}')" 10.114.128.0/17
	run_hello "$CP"
	in_range "$(kubectl_on "$CP" get pod hello -o 'jsonpath={.status.podIP}')" 10.114.0.0/17
}

@test "nothing of the old range is left in routes or rulesets" {
	# The test's own guard (local target) covers both ranges: its route and table are not the runtime's.
	# shellcheck disable=SC2016 # expanded by the host's shell
	run on "$CP" sh -c 'ip route show table all | grep -v " dev mc-guard0 "; nft list tables | grep -v mc_test_guard | while read -r _ family name; do nft list table "$family" "$name"; done'
	assert_success
	refute_output --partial 10.113.
}

@test "reset, with a workload running, removes the install and the runtime's service" {
	run mc "$CP" reset --yes
	assert_success
	if on "$CP" mountpoint -q "$DATA_DIR"; then # a disk of its own (the podman hosts'): emptied, still mounted
		run on "$CP" find "$DATA_DIR" -mindepth 1 -maxdepth 1
		assert_output ""
	else
		run on "$CP" test -e "$DATA_DIR"
		assert_failure
	fi
	if on "$CP" test -d /run/systemd/system; then
		run on "$CP" systemctl list-unit-files --no-legend mission-control-k0s.service
		assert_output ""
	fi
	run on "$CP" test -e /etc/systemd/system/mission-control-k0s.service
	assert_failure
}

@test "the host is as it was before the first install" {
	unchanged_since "$CP" before
}
