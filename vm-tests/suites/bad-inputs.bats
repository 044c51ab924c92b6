#!/usr/bin/env bats
# bad-inputs: every wrong flag, license, range or bundle is refused with one line that names the
# problem and the fix, exit 1, and the host exactly as it was.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets stderr
load ../lib/suite

LICENSE=$MC_STAGE/license.yaml

setup_file() {
	snapshot "$CP" before
}

teardown_file() {
	on "$CP" sh -c 'ip link show mc-vmtest0 >/dev/null 2>&1 && ip link delete mc-vmtest0 || true'
}

# refused WANT ARG...: mission-control ARG... exits 1 with one error, which says WANT (the whole
# message, or as much of it as does not name this host's addresses).
refused() {
	local want=$1
	shift
	run --separate-stderr mc "$CP" "$@"
	assert_failure 1
	[[ $(grep -c '^Error: ' <<<"$stderr") -eq 1 ]] || fail "want exactly one Error: line; stderr: $stderr"
	[[ $stderr == *"$want"* ]] || fail "want the error to say: $want; stderr: $stderr"
}

@test "install without --license" {
	refused "--license is required: pass the license file you were issued" install --yes
}

@test "a license file that does not exist" {
	refused "license file /nonexistent/license.yaml does not exist" install --license /nonexistent/license.yaml --yes
}

@test "a license edited after it was signed" {
	refused "verify-license: license $MC_STAGE/licenses/edited.yaml: signature does not match its contents: the file was altered or damaged; use the original license file" \
		install --license "$MC_STAGE/licenses/edited.yaml" --yes
}

@test "an expired license" {
	refused "verify-license: license $MC_STAGE/licenses/expired.yaml: L-VMT-EXPIRED expired on 2021-01-01T00:00:00Z; request a renewed license" \
		install --license "$MC_STAGE/licenses/expired.yaml" --yes
}

@test "a license without the mode" {
	refused "verify-license: license $MC_STAGE/licenses/data-plane-only.yaml: L-VMT-DP does not entitle control-plane mode (entitled: data-plane); use --mode data-plane or request an extended license" \
		install --license "$MC_STAGE/licenses/data-plane-only.yaml" --yes
}

@test "an air-gapped install without the air-gap entitlement" {
	# The entitlement is refused first: the bundle (here not one at all) is never read.
	refused "verify-license: license $MC_STAGE/licenses/no-airgap.yaml: L-VMT-ONLINE does not entitle air-gapped installs; install without --airgap-bundle or request an air-gap license" \
		install --license "$MC_STAGE/licenses/no-airgap.yaml" --airgap-bundle "$MC_STAGE/license.yaml" --yes
}

@test "a public range" {
	refused "8.8.0.0/16 is not a private range" install --license "$LICENSE" --cidr 8.8.0.0/16 --yes
}

@test "a range smaller than /16" {
	refused "10.102.0.0/24 is too small" install --license "$LICENSE" --cidr 10.102.0.0/24 --yes
}

@test "a range that is not a range" {
	refused '--cidr: "10.102.0.0/33" is not a CIDR range; write it as address/bits' install --license "$LICENSE" --cidr 10.102.0.0/33 --yes
}

@test "pod and service ranges that overlap" {
	refused "--pod-cidr 10.102.0.0/16 and --service-cidr 10.102.128.0/17 overlap; choose two disjoint ranges" \
		install --license "$LICENSE" --pod-cidr 10.102.0.0/16 --service-cidr 10.102.128.0/17 --yes
}

@test "--pod-cidr without --service-cidr" {
	refused "--pod-cidr and --service-cidr must be given together" install --license "$LICENSE" --pod-cidr 10.102.0.0/16 --yes
}

@test "a range overlapping a network of this host" {
	# An interface of the test's own (a bridge with no ports, down: nothing can leave through it).
	on "$CP" ip link add mc-vmtest0 type bridge
	on "$CP" ip addr add 10.104.7.1/24 dev mc-vmtest0
	refused "overlaps host route 10.104.7.1/32 on mc-vmtest0" install --license "$LICENSE" --cidr 10.104.0.0/16 --yes
	on "$CP" ip link delete mc-vmtest0
}

@test "an unknown mode" {
	refused '--mode "bogus" is not a mode: use control-plane or data-plane' install --license "$LICENSE" --mode bogus --yes
}

@test "an air-gap bundle that does not exist" {
	refused "--airgap-bundle /nonexistent.airgap does not exist" install --license "$LICENSE" --airgap-bundle /nonexistent.airgap --yes
}

@test "a file that is not an air-gap bundle" {
	refused "host-preflights: --airgap-bundle $MC_STAGE/images/hello.tar: bundle is damaged (not a readable zstd-compressed tar): invalid input: magic number mismatch" \
		install --license "$LICENSE" --airgap-bundle "$MC_STAGE/images/hello.tar" --yes
}

@test "an unknown flag" {
	refused "unknown flag: --bogus (see mission-control install --help)" install --license "$LICENSE" --bogus
}

@test "install and reset by a user other than root" {
	run --separate-stderr on "$CP" setpriv --reuid=65534 --regid=65534 --clear-groups "$MC_STAGE/mission-control" install --license "$LICENSE" --yes
	assert_failure 1
	[[ $stderr == "Error: install changes this host and must run as root: run it again with sudo" ]] || fail "stderr: $stderr"
	run --separate-stderr on "$CP" setpriv --reuid=65534 --regid=65534 --clear-groups "$MC_STAGE/mission-control" reset --yes
	assert_failure 1
	[[ $stderr == "Error: reset changes this host and must run as root: run it again with sudo" ]] || fail "stderr: $stderr"
}

@test "status, shell and reset with nothing installed" {
	run mc "$CP" status
	assert_failure 3
	assert_output --partial "mission-control is not installed in $DATA_DIR"
	refused "mission-control is not installed in $DATA_DIR: install it first" shell -- kubectl get nodes
	run mc "$CP" reset --yes
	assert_success
	assert_output --partial "Nothing to reset"
}

@test "the host is as it was" {
	unchanged_since "$CP" before
}
