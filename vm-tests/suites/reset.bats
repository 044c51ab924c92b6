#!/usr/bin/env bats
# reset: removes every trace of an install killed halfway, leaving the host exactly as it was
# before (processes, mounts, links, routes, iptables and nftables, users, sysctls, cgroups, files
# under /etc, /run and /var/lib); a second reset has nothing to do. (reinstall-cidr resets a
# complete install with a workload running.)
load ../lib/suite

CIDR=10.112.0.0/16
INSTALL_ARGS=(install --license "$MC_STAGE/license.yaml" --cidr "$CIDR" --yes)

teardown_file() {
	if [[ -s $BATS_FILE_TMPDIR/install.pid ]]; then
		on "$CP" sh -c "kill -KILL $(cat "$BATS_FILE_TMPDIR/install.pid") 2>/dev/null || true"
	fi
	cleanup_installs
}

@test "an install killed once its runtime started" {
	guard "$CP" "$CIDR"
	snapshot "$CP" before
	echo "$CP" >>"$BATS_FILE_TMPDIR/installed"
	# The install runs in the background; its PID is the shell's, which execs it.
	on "$CP" sh -c "echo \$\$ >'$MC_STAGE/install.pid' && exec '$MC_STAGE/mission-control' $(printf '%q ' "${INSTALL_ARGS[@]}") >'$MC_STAGE/install.log' 2>&1" 3>&- &
	wait_until "the install's PID" 10 on "$CP" test -s "$MC_STAGE/install.pid"
	on "$CP" cat "$MC_STAGE/install.pid" >"$BATS_FILE_TMPDIR/install.pid"
	wait_until "the runtime started" 300 on "$CP" sh -c "grep -A1 '\"step\": \"start-runtime\"' '$DATA_DIR/journal.json' | grep -q '\"state\": \"succeeded\"'"
	on "$CP" kill -KILL "$(cat "$BATS_FILE_TMPDIR/install.pid")"
	wait || true # the killed install's exit status
	rm "$BATS_FILE_TMPDIR/install.pid"
	run mc "$CP" status
	assert_failure 3
}

@test "reset removes the partial install, leaving the host as it was" {
	mc "$CP" reset --yes
	unchanged_since "$CP" before
}

@test "a second reset has nothing to do" {
	run mc "$CP" reset --yes
	assert_success
	assert_output --partial "Nothing to reset"
}
