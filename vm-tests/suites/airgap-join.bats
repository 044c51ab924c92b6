#!/usr/bin/env bats
# airgap-join: a controller installed from an air-gap bundle (the test network has no uplink),
# and a worker joining it from the same bundle: joined without the bundle, or with a damaged one,
# the worker is refused with the host unchanged; with the bundle its images are staged as
# install stages them, and a pod of an image only the bundle carries runs on the worker.
# shellcheck disable=SC2034,SC2154 # SUITE_HOSTS is read by run.sh; run --separate-stderr sets stderr
SUITE_HOSTS="cp-east worker-1" # read by run.sh and lib/suite.bash
load ../lib/suite

CIDR=10.112.0.0/16
BUNDLE=$MC_STAGE/mission-control.airgap
W1=${HOSTS[1]:-}

teardown_file() {
	cleanup_installs
	on "$CP" rm -f "$BUNDLE"
	on "$W1" rm -f "$BUNDLE" "$MC_STAGE/damaged.airgap" "$MC_STAGE/join.token"
}

# join_worker ARG...: join worker-1 with the controller's token, and ARGs.
join_worker() {
	join_with "$CP" /tmp/worker.token "$W1" "$MC_STAGE/license.yaml" "$@"
}

@test "a controller installed from the bundle; the bundle copied to the worker's host" {
	mc "$CP" bundle build --images-dir "$MC_STAGE/images" --signing-key "$MC_STAGE/development-license.key" --out "$BUNDLE" >/dev/null
	run install_platform "$CP" "$CIDR" control-plane --airgap-bundle "$BUNDLE"
	assert_success
	assert_output --partial "Stage the air-gap bundle's images"
	on "$CP" cat "$BUNDLE" | on "$W1" sh -c "cat >'$BUNDLE'"
	mc "$CP" node join-command --role worker --out /tmp/worker.token >/dev/null
	snapshot "$W1" before
}

@test "a join without the cluster's bundle, or with a damaged copy, is refused with the host unchanged" {
	run --separate-stderr join_worker
	assert_failure
	[[ $stderr == *"Error: check-cluster: the cluster at https://"*":6443 was installed from the air-gap bundle "*" built "*", sha256:"*": join with --airgap-bundle and that bundle's file"* ]] || fail "stderr: $stderr"
	on "$W1" sh -c "cp '$BUNDLE' '$MC_STAGE/damaged.airgap' && size=\$(stat -c %s '$BUNDLE') &&
		printf x | dd of='$MC_STAGE/damaged.airgap' bs=1 seek=\$((size / 2)) conv=notrunc status=none"
	run --separate-stderr join_worker --airgap-bundle "$MC_STAGE/damaged.airgap"
	assert_failure
	[[ $stderr == *"Error: verify-airgap-bundle: --airgap-bundle $MC_STAGE/damaged.airgap: bundle "* ]] || fail "stderr: $stderr"
	unchanged_since "$W1" before
}

@test "the worker joins from the bundle and runs a pod of an image only the bundle carries" {
	run join_worker --airgap-bundle "$BUNDLE"
	assert_success
	assert_output --partial "Verify the air-gap bundle"
	assert_output --partial "Stage the air-gap bundle's images"
	run on "$W1" test -e "$DATA_DIR/k0s/images/bundle-hello.tar"
	assert_success
	kubectl_on "$CP" apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hello-worker}
spec:
  nodeName: worker-1
  containers:
  - {name: hello, image: localhost/mission-control-e2e/hello:1, imagePullPolicy: Never, readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}}
EOF
	kubectl_on "$CP" wait --for=condition=Ready pod/hello-worker --timeout=180s
}
