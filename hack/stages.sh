#!/usr/bin/env bash
# hack/stages.sh SUITES_DIR STAGE:BOUND...: make test's driver. Runs `make STAGE` for each stage in
# order under `timeout -k 30s BOUND`, printing a timestamped start line and its duration, and stops
# at the first that fails or runs out of time, naming it. It ends, pass or fail, with a table of
# each stage's duration and each vm-tests suite's (from SUITES_DIR/durations, which run.sh writes).
set -uo pipefail
suites_dir=${1:?usage: stages.sh SUITES_DIR STAGE:BOUND...}
shift
rm -f "$suites_dir/durations"

rows=() failed=""
table() {
	echo
	echo "make test: durations"
	printf '  %-34s %8s  %s\n' "STAGE / SUITE" "SECONDS" "RESULT"
	local row
	for row in "${rows[@]}"; do printf '  %s\n' "$row"; done
	if [[ -f $suites_dir/durations ]]; then
		while IFS=$'\t' read -r suite seconds result; do
			printf '    %-32s %8s  %s\n' "suite $suite" "$seconds" "$result"
		done <"$suites_dir/durations"
	fi
}

total_start=$SECONDS
for spec in "$@"; do
	stage=${spec%%:*} bound=${spec#*:}
	echo "make test: $stage started at $(date +%T) (bound $bound)"
	start=$SECONDS
	timeout -k 30s "$bound" make --no-print-directory "$stage" TARGET=podman
	status=$?
	took=$((SECONDS - start))
	case $status in
	0) result=ok ;;
	124 | 137) result="TIMED OUT after $bound" ;;
	*) result="failed (exit $status)" ;;
	esac
	rows+=("$(printf '%-34s %8s  %s' "$stage" "$took" "$result")")
	echo "make test: $stage took ${took}s: $result"
	if [[ $status -ne 0 ]]; then
		failed=$stage
		break
	fi
done
rows+=("$(printf '%-34s %8s' total $((SECONDS - total_start)))")
table
if [[ -n $failed ]]; then
	echo "make test: FAILED at stage $failed"
	exit 1
fi
