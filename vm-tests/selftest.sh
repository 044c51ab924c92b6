#!/usr/bin/env bash
# vm-tests/selftest.sh: the runner's own test (make vm-selftest; make test runs it). The suite
# selftest/hang.bats has a step that never ends: run.sh must stop it at the suite's bound (20s),
# fail naming that step, tear the host down and leave the machine as it found it, all well
# within this script's own bound.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$here")/bin/vm-tests-selftest
bound=6m

fail() {
	echo "vm-tests selftest: FAILED: $*" >&2
	exit 1
}

status=0
log=$(timeout -k 30s "$bound" "$here/run.sh" --target podman --suites-dir "$here/selftest" --suite hang --out "$out" 2>&1) || status=$?
echo "$log"
case $status in
0) fail "run.sh passed a suite whose step never ends" ;;
124 | 137) fail "run.sh did not end within $bound: the suite's bound (20s) did not stop it" ;;
1) ;;
*) fail "run.sh exited $status, not 1" ;;
esac
want='vm-tests: FAILED podman: suite hang timed out after 20s in step "a step that never ends"'
grep -qxF "$want" <<<"$log" || fail "run.sh did not say: $want"
! grep -q 'not as the run found it' <<<"$log" || fail "the machine was left changed"
grep -q '^ok 1 a step that ends' "$out/podman/hang.tap" || fail "the first step's result is missing from the TAP"
if podman ps -a --format '{{.Names}}' | grep -q '^mc-vmtest-'; then fail "the suite's host is still there"; fi
echo "vm-tests selftest: a hung step failed its suite at the bound, named, with the host torn down"
