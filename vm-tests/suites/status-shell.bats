#!/usr/bin/env bats
# status-shell: status reports an install and its runtime in text and JSON, with exit codes a
# script can use; a stopped runtime (a reboot) shows as exit 4 and the same install command
# starts it again; shell runs kubectl and the user's shell with the admin kubeconfig.
# shellcheck disable=SC2034
SUITE_SHARED=pair:3 # read by run.sh: runs on the shared pair, after the installs
load ../lib/suite

teardown_file() {
	cleanup_installs
}

@test "install a control plane" {
	install_shared "$CP"
}

@test "status shows the install, its runtime and its operators, and exits 0" {
	run mc "$CP" status
	assert_success
	assert_output --partial control-plane
	assert_output --partial 10.108.0.0/17
	assert_output --partial 10.108.128.0/17
	assert_output --partial L-DEV-0001
	assert_output --partial mission-control-operator
	refute_output --regexp '(✗|FAIL)'
}

@test "status -o json and -o yaml both report it complete and healthy" {
	run --separate-stderr mc "$CP" status -o json
	assert_success
	local json=$output
	jq -e '.complete and .healthy' <<<"$json"
	run --separate-stderr mc "$CP" status -o yaml
	assert_success
	assert_line --regexp '^complete: true$'
	assert_line --regexp '^healthy: true$'
}

@test "the runtime runs as the host's init system has it: an enabled systemd unit, or the supervisor" {
	run --separate-stderr mc "$CP" status -o json
	assert_success
	if on "$CP" test -d /run/systemd/system; then
		jq -e '.runtime.service == "running (systemd unit mission-control-k0s.service)"' <<<"$output"
		run on "$CP" systemctl is-enabled mission-control-k0s.service
		assert_output enabled
		run on "$CP" systemctl is-active mission-control-k0s.service
		assert_output active
	else
		jq -e '.runtime.service | startswith("running (supervisor pid ")' <<<"$output"
	fi
}

@test "shell runs a command with the admin kubeconfig and passes on its exit status" {
	run kubectl_on "$CP" get nodes --no-headers
	assert_success
	assert_output --regexp ' Ready '
	run mc "$CP" shell -- sh -c 'exit 7'
	assert_failure 7
}

@test "shell opens the user's shell with KUBECONFIG set and kubectl on PATH" {
	# shellcheck disable=SC2016 # expanded by the shell that mission-control opens
	run mc "$CP" shell <<<'echo "KUBECONFIG=$KUBECONFIG"; kubectl get namespace mission-control -o name'
	assert_success
	assert_line "KUBECONFIG=$DATA_DIR/kubeconfig"
	assert_line namespace/mission-control
}

@test "the admin kubeconfig is readable by root only" {
	run on "$CP" stat -c %a "$DATA_DIR/kubeconfig"
	assert_output 600
}

@test "a stopped runtime is status exit 4" {
	stop_runtime "$CP"
	run mc "$CP" status
	assert_failure 4
}

@test "the same install command starts it again, healthy" {
	run mc "$CP" install --license "$MC_STAGE/license.yaml" --cidr "$SHARED_CP_CIDR" --context-name CP_EAST --yes
	assert_success
	assert_output --partial "its runtime is not running: starting it"
	wait_until "status healthy" 300 mc "$CP" status
	kubectl_prints "$CP" True get nodes -o 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}'
}
