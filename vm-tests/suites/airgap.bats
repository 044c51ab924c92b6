#!/usr/bin/env bats
# airgap: a bundle built and verified on the host; a damaged one refused with the host unchanged;
# then a control plane installed from the bundle in a network namespace with no route off the
# host runs a pod of an image only the bundle carries, and reset leaves the host as it was.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets stderr
load ../lib/suite

CIDR=10.111.0.0/16
BUNDLE=$MC_STAGE/mission-control.airgap

setup_file() {
	testhost "$CP" isolate 172.31.254.2/24 >"$BATS_FILE_TMPDIR/holder"
	# Named, as ip netns exec's are: a host's systemd starts the runtime's unit in it by that name.
	on "$CP" test -d /run/netns || touch "$BATS_FILE_TMPDIR/made-run-netns"
	on "$CP" ip netns attach mc-airgap "$(cat "$BATS_FILE_TMPDIR/holder")"
	MC_NETNS=/run/netns/mc-airgap
	export MC_NETNS
}

teardown_file() {
	cleanup_installs
	on "$CP" rm -f "$BUNDLE" "$MC_STAGE/damaged.airgap"
	on "$CP" ip netns delete mc-airgap
	if [[ -f $BATS_FILE_TMPDIR/made-run-netns ]]; then
		on "$CP" sh -c 'umount /run/netns 2>/dev/null; rmdir /run/netns'
	fi
	on "$CP" kill "$(cat "$BATS_FILE_TMPDIR/holder")"
}

@test "bundle build and bundle verify" {
	run mc "$CP" bundle build --images-dir "$MC_STAGE/images" --signing-key "$MC_STAGE/development-license.key" --out "$BUNDLE"
	assert_success
	run mc "$CP" bundle verify "$BUNDLE"
	assert_success
	run mc "$CP" bundle inspect "$BUNDLE"
	assert_output --partial localhost/mission-control-e2e/hello:1
}

@test "the host has no route off it" {
	snapshot "$CP" before
	run on "$CP" nsenter --net="$MC_NETNS" ip -br link
	assert_line --regexp '^lo '
	assert_line --regexp '^mc-air0 '
	[[ ${#lines[@]} -eq 2 ]] || fail "links besides lo and mc-air0: $output"
}

@test "a damaged bundle is refused with the host unchanged" {
	on "$CP" sh -c "cp '$BUNDLE' '$MC_STAGE/damaged.airgap' && size=\$(stat -c %s '$BUNDLE') &&
		printf x | dd of='$MC_STAGE/damaged.airgap' bs=1 seek=\$((size / 2)) conv=notrunc status=none"
	run --separate-stderr mc "$CP" install --license "$MC_STAGE/license.yaml" --airgap-bundle "$MC_STAGE/damaged.airgap" \
		--cidr "$CIDR" --network-interface mc-air0 --yes
	assert_failure 1
	[[ $stderr == *"Error: verify-airgap-bundle: --airgap-bundle $MC_STAGE/damaged.airgap: bundle "* ]] || fail "stderr: $stderr"
	unchanged_since "$CP" before
}

@test "install a control plane from the bundle" {
	run install_platform "$CP" "$CIDR" control-plane --airgap-bundle "$BUNDLE" --network-interface mc-air0
	assert_success
	assert_output --partial "Verify the air-gap bundle"
	assert_output --partial "Stage the air-gap bundle's images"
	run mc "$CP" status
	assert_success
}

@test "database images are never pulled" {
	run kubectl_on "$CP" -n mission-control get configmap mission-control-image-config -o 'jsonpath={.data.image_config\.yaml}'
	assert_output --partial "pullPolicy: Never"
}

@test "a pod runs an image only the bundle carries" {
	run_hello "$CP"
}

@test "reset leaves the host as it was" {
	mc "$CP" reset --yes
	unchanged_since "$CP" before
}
