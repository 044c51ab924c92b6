#!/usr/bin/env bats
# preflight: a host fit for the product passes the host checks in both modes; a port the
# platform needs, taken by another process, fails them naming the port and that process; and
# preflight changes nothing.
load ../lib/suite

CIDR=10.101.0.0/16

teardown_file() {
	if [[ -s $BATS_FILE_TMPDIR/holder ]]; then
		on "$CP" kill "$(cat "$BATS_FILE_TMPDIR/holder")"
	fi
}

@test "preflight passes for a control plane" {
	snapshot "$CP" before
	run mc "$CP" preflight --cidr "$CIDR"
	assert_success
	assert_output --regexp '[0-9]+ checks passed'
	refute_output --partial FAIL
}

@test "preflight passes for a data plane, as JSON" {
	run --separate-stderr mc "$CP" preflight --mode data-plane --cidr "$CIDR" -o json
	assert_success
	jq -e '(.results | length) >= 30 and all(.results[]; .status != "fail")' <<<"$output"
}

@test "preflight fails naming a taken port and the process holding it" {
	testhost "$CP" hold-port 7000 >"$BATS_FILE_TMPDIR/holder"
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/holder")
	run mc "$CP" preflight --cidr "$CIDR"
	assert_failure 1
	assert_output --regexp "port 7000 +FAIL +in use by testhost \(pid $pid\)"
	assert_output --partial "checks failed: port 7000"
}

@test "install stops at the failed preflight with the host unchanged" {
	run mc "$CP" install --license "$MC_STAGE/license.yaml" --cidr "$CIDR" --yes
	assert_failure 1
	assert_output --partial "port 7000: in use by testhost"
	assert_output --partial "--ignore-host-preflights"
	on "$CP" kill "$(cat "$BATS_FILE_TMPDIR/holder")"
	rm "$BATS_FILE_TMPDIR/holder"
	unchanged_since "$CP" before
}
