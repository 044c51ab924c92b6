#!/usr/bin/env bats
# support-bundle: a bundle of a running control plane holds host and cluster diagnostics and
# none of the secrets planted in the cluster, its pods' environment and logs, nor the admin
# kubeconfig's key; with the runtime stopped, it still holds the host part and says why the
# cluster part is missing.
# shellcheck disable=SC2034
SUITE_SHARED=pair:8 # read by run.sh: runs on the shared pair, last (it stops the runtime)
load ../lib/suite

BUNDLE=$MC_STAGE/support-bundle.tar.gz
EXTRACTED=$MC_STAGE/support-bundle

teardown_file() {
	cleanup_installs
	on "$CP" rm -rf "$BUNDLE" "$EXTRACTED"
}

# collect: a bundle, extracted on the host.
collect() {
	run mc "$CP" support-bundle --out "$BUNDLE"
	assert_success
	assert_output --partial "Support bundle written to $BUNDLE"
	on "$CP" sh -c "rm -rf '$EXTRACTED' && mkdir '$EXTRACTED' && tar -xzf '$BUNDLE' -C '$EXTRACTED'"
}

# runtime_log: where a bundle keeps the runtime's log: its unit's journal where systemd runs it,
# else the supervisor's log file.
runtime_log() {
	if on "$CP" test -d /run/systemd/system; then
		echo host-collectors/journald/runtime-journal.txt
	else
		echo host-collectors/runtime-logs/k0s.log
	fi
}

@test "install a control plane with planted secrets" {
	install_shared "$CP"
	on "$CP" cp "$MC_STAGE/images/hello.tar" "$DATA_DIR/k0s/images/hello.tar"
	kubectl_on "$CP" apply -f - <"$MC_REPO/vm-tests/suites/planted.yaml"
	kubectl_on "$CP" -n mission-control wait --for=condition=Ready pod/planted --timeout=180s
}

@test "a bundle of the running control plane holds host and cluster files" {
	collect
	local f runtime_log
	runtime_log=$(runtime_log)
	for f in host-collectors/run-host/k0s-status.txt host-collectors/run-host/routes.txt host-collectors/run-host/nftables.txt \
		"$runtime_log" host-collectors/install-records/journal.json host-collectors/install-records/preflight.json \
		host-collectors/license/license.yaml host-collectors/install-state/install.yaml cluster-resources/pods/mission-control.json \
		cluster-resources/events/mission-control.json cluster-info/cluster_version.json; do
		on "$CP" test -s "$EXTRACTED/support-bundle/$f" || fail "the bundle lacks $f, or it is empty: $(on "$CP" ls -l "$(dirname "$EXTRACTED/support-bundle/$f")")"
	done
	run on "$CP" cat "$EXTRACTED/support-bundle/host-collectors/run-host/k0s-status.txt"
	assert_output --partial "Role: controller"
	run on "$CP" find "$EXTRACTED/support-bundle" -path '*pods/logs/mission-control/planted/*'
	assert_output --partial planted
	run on "$CP" test -e "$EXTRACTED/support-bundle/cluster-collection-error.txt"
	assert_failure
	run on "$CP" cat "$EXTRACTED/support-bundle/$runtime_log"
	assert_output --partial "using api address"
}

@test "it holds none of the planted secrets nor the admin kubeconfig's key" {
	local key secret
	key=$(on "$CP" sed -n 's/^ *client-key-data: //p' "$DATA_DIR/kubeconfig")
	[[ ${#key} -gt 20 ]] || fail "no client key in the admin kubeconfig"
	# The log of every shape is in the bundle, each credential masked in it.
	run on "$CP" sh -c "find '$EXTRACTED/support-bundle' -path '*pods/logs/mission-control/planted/shapes*' -type f -exec cat {} +"
	assert_output --partial "-----BEGIN RSA PRIVATE KEY-----"
	assert_output --partial "@proxy.internal:3128/" # troubleshoot masks the user too
	assert_output --partial "loaded kubeconfig:"
	# The planted pull secret and ConfigMap were collected: a leak would come through them.
	run on "$CP" cat "$EXTRACTED/support-bundle/cluster-resources/image-pull-secrets/mission-control/planted.json"
	assert_output --partial vmtests-puller
	run on "$CP" cat "$EXTRACTED/support-bundle/cluster-resources/configmaps/mission-control.json"
	assert_output --partial application.conf
	for secret in vmtests-pull-password-6b1e dm10ZXN0cy1wdWxsZXI6dm10ZXN0cy1wdWxsLXBhc3N3b3JkLTZiMWU= vmtests-configmap-2c9a vmtests-env-61fe vmtests-log-b03e vmtests-bearer-5c7e0f1a2b3c4d5e \
		vmtests-url-9e21 vmtests-aws-44d0 vmtests-token-1a2b vmtests-sess-3c4d vmtests-sign-5e6f vmtests-admin-7a8b \
		dm10ZXN0cy1iYXNpYy05YzBk dm10ZXN0cy1jbGllbnQta2V5LTJhM2I= vmtests-kubetoken-0e1f vmtestsPEMlineOne vmtestsPEMlineTwo "$key"; do
		run on "$CP" grep -rl -- "$secret" "$EXTRACTED/support-bundle"
		assert_failure 1 # grep found nothing
	done
}

@test "with the runtime stopped, a bundle holds the host part and why the cluster part is missing" {
	stop_runtime "$CP"
	collect
	on "$CP" test -s "$EXTRACTED/support-bundle/$(runtime_log)"
	on "$CP" test -s "$EXTRACTED/support-bundle/cluster-collection-error.txt"
}
