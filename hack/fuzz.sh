#!/usr/bin/env bash
# fuzz.sh FUZZTIME: runs every fuzz target (each func Fuzz* of the tests) for FUZZTIME beyond its
# seeds, one at a time, each bounded. A target fails the run when it fails, except for the Go 1.26
# fuzz coordinator's race at the -fuzztime boundary (go.dev/issue/75804, fixed in Go 1.27): a bare
# "context deadline exceeded" with no failing input written is run once more, and fails the run
# only if it happens again. A real finding always writes its input under testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:?usage: hack/fuzz.sh FUZZTIME, e.g. 20s}
go=${GO:-go}

run_target() {
	local dir=$1 target=$2 log status
	log=$(mktemp)
	set +o pipefail
	timeout -k 30s 5m "$go" test -run='^$' -fuzz="^$target\$" -fuzztime="$fuzztime" "./$dir" 2>&1 | tee "$log" | grep -v '^fuzz: elapsed'
	status=${PIPESTATUS[0]}
	set -o pipefail
	if [[ $status -ne 0 ]] && grep -q 'context deadline exceeded' "$log" && ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
		status=75 # the coordinator's race: worth one more run
	fi
	rm -f "$log"
	return "$status"
}

grep -rlE --include='*_test.go' --exclude-dir=.tools --exclude-dir=.git '^func Fuzz' . | sort | while read -r file; do
	dir=$(dirname "$file")
	grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | cut -d' ' -f2 | while read -r target; do
		echo "fuzz $target ($dir, $fuzztime)"
		status=0
		run_target "$dir" "$target" </dev/null || status=$?
		if [[ $status -eq 75 ]]; then
			echo "fuzz $target: 'context deadline exceeded' at the -fuzztime boundary with no failing input (go.dev/issue/75804): running it once more"
			status=0
			run_target "$dir" "$target" </dev/null || status=$?
		fi
		if [[ $status -ne 0 ]]; then
			echo "fuzz $target ($dir) failed" >&2
			exit 1
		fi
	done
done
