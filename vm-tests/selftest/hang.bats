#!/usr/bin/env bats
# hang: a test of the runner, not of the product (vm-tests/selftest.sh runs it): a step that never
# ends must make its suite fail at the suite's bound, naming the step, with the host torn down.
# shellcheck disable=SC2034
SUITE_TIMEOUT=20s # read by run.sh
load ../lib/suite

@test "a step that ends" {
	on "$CP" true
}

@test "a step that never ends" {
	on "$CP" sleep infinity
}

@test "a step after it, never reached" {
	false
}
