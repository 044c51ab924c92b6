# shellcheck shell=bash
# What every suite loads: running commands on the hosts under test, installs that clean up after
# themselves, and a suite's steps stopping at the first failure. vm-tests/run.sh sets:
#   MC_TARGET      local, podman, lima or vagrant
#   MC_HOSTS       the hosts, first the control plane's: "local", or the suite's SUITE_HOSTS
#   MC_SSH_CONFIG  ssh config that names the hosts (lima, vagrant)
#   MC_PODMAN_PREFIX  a host's container is this prefix and its name (podman)
#   MC_STAGE       directory on every host with mission-control, mcctl, testhost, license.yaml,
#                  development-license.key, licenses/ (wrong ones, and two-nodes.yaml: maxNodes 2), images/hello.tar and the
#                  Cassandra stand-ins' images/*-standin.tar
#   MC_NET_GUARD   1: keep each install's pod and service traffic on the machine (local)
#   MC_PRIVATE_NET the hosts' private network, when their default route is not on it: nodes take
#                  their address there (Vagrant's first interface is its NAT)
#   MC_ARTIFACTS   directory where support bundles of failed suites are written
#   MC_SUITE       the suite's name: MC_ARTIFACTS/MC_SUITE.step names the step running, for a
#                  suite that runs out of time
#   MC_REPO        the repository, for the docs' examples
#   MC_SHARED      1: the suite runs on the shared pair (SUITE_SHARED): installs found there are
#                  used as they are and left installed for the next suite; run.sh resets them
# and a suite may set MC_HOST_TIMEOUT: the seconds a command on a host may take (600).

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${MC_TARGET:?run the suites with vm-tests/run.sh}"
read -ra HOSTS <<<"${MC_HOSTS:?}"
# shellcheck disable=SC2034 # CP and DP are the suites'
CP=${HOSTS[0]}          # the host of single-host suites, the control plane of host-pair ones
# shellcheck disable=SC2034
DP=${HOSTS[1]:-}        # the data plane of host-pair suites
DATA_DIR=/var/lib/mission-control
MC_NETNS=${MC_NETNS:-}  # a network namespace path on the hosts: commands run there when set

MC_HOST_TIMEOUT=${MC_HOST_TIMEOUT:-600}

# on HOST CMD [ARG...]: run a command as root on a host, with this shell's stdin, for at most
# MC_HOST_TIMEOUT seconds: timeout ends it on the host itself (killing a podman exec or ssh client
# would leave the command running there), and the client gets 30 s more to return.
on() {
	local host=$1 t=$MC_HOST_TIMEOUT status=0
	shift
	local bounded=(timeout -k 10s "${t}s" "$@")
	if [[ $MC_TARGET == local ]]; then
		if [[ $EUID -eq 0 ]]; then "${bounded[@]}" || status=$?; else sudo -n "${bounded[@]}" || status=$?; fi
	elif [[ $MC_TARGET == podman ]]; then
		timeout -k 10s "$((t + 30))s" podman exec -i "$MC_PODMAN_PREFIX$host" "${bounded[@]}" || status=$?
	else
		# ssh hands the remote shell one string: quote each word for it.
		timeout -k 10s "$((t + 30))s" ssh -F "$MC_SSH_CONFIG" -o BatchMode=yes -o LogLevel=ERROR "$host" "sudo -n $(printf '%q ' "${bounded[@]}")" || status=$?
	fi
	if ((status == 124 || status == 137)); then
		echo "on $host: '$*' did not finish within ${t}s" >&2
	fi
	return "$status"
}

# mc HOST ARG...: mission-control on a host (in MC_NETNS when set).
mc() {
	local host=$1
	shift
	if [[ -n $MC_NETNS ]]; then
		on "$host" nsenter --net="$MC_NETNS" -- "$MC_STAGE/mission-control" "$@"
	else
		on "$host" "$MC_STAGE/mission-control" "$@"
	fi
}

# kubectl_on HOST ARG...: kubectl with the install's admin kubeconfig, as a user runs it. Each
# request is bounded (--request-timeout), unless the command bounds its own wait (--timeout).
kubectl_on() {
	local host=$1 bound=(--request-timeout=60s)
	shift
	[[ " $* " != *" --timeout="* && " $* " != *" --timeout "* ]] || bound=()
	mc "$host" shell -- kubectl "${bound[@]}" "$@"
}

testhost() {
	local host=$1
	shift
	on "$host" "$MC_STAGE/testhost" "$@"
}


# guard HOST CIDR...: on the local target, keep the pods and Services of installs on the CIDRs on
# this machine (their traffic may not leave it) until cleanup_host. A guard already covering CIDR
# stays; one for other ranges goes.
guard() {
	local host=$1 guarded=$BATS_FILE_TMPDIR/guarded-$1
	shift
	[[ ${MC_NET_GUARD:-} == 1 ]] || return 0
	if [[ -f $guarded ]]; then
		local missing=0 cidr
		for cidr in "$@"; do grep -qxF "$cidr" "$guarded" || missing=1; done
		[[ $missing == 1 ]] || return 0
		testhost "$host" guard-down
	fi
	testhost "$host" guard-up "$@"
	printf '%s\n' "$@" >"$guarded"
}

# install_platform HOST CIDR MODE [ARG...]: install on HOST; cleanup_host undoes it. Where
# firewalld runs, the remedy preflight prints is applied first, as the docs tell users to.
install_platform() {
	local host=$1 cidr=$2 mode=$3
	shift 3
	guard "$host" "$cidr"
	# Each wait of the install bounded at 4 minutes (5 by default): a systematic failure fails the
	# step in minutes rather than half an hour.
	local args=(--license "$MC_STAGE/license.yaml" --cidr "$cidr" --mode "$mode" --wait-timeout 4m --yes "$@")
	if [[ -n ${MC_PRIVATE_NET:-} && -z $MC_NETNS ]]; then
		args+=(--network-interface "$(on "$host" ip -o -4 addr show to "$MC_PRIVATE_NET" | awk '{print $2; exit}')")
	fi
	echo "$host" >>"$BATS_FILE_TMPDIR/installed"
	local remedy
	remedy=$(mc "$host" preflight --mode "$mode" --cidr "$cidr" -o json | jq -r '.results[] | select(.check == "firewalld" and .status == "warn") | .remedy')
	[[ -z $remedy ]] || on "$host" sh -c "$remedy"
	mc "$host" install "${args[@]}"
}

# The shared pair: a control plane CP_EAST on cp-east and a data plane DP_WEST on dp-west. Suites
# that only need installed hosts name SUITE_SHARED=pair:ORDER and install through install_shared;
# run.sh then runs them, in ORDER, on one pair installed by the first of them (MC_SHARED=1), and
# recreates the pair after a suite that failed. Such a suite leaves the pair as it found it.
SHARED_CP_CIDR=10.108.0.0/16
SHARED_DP_CIDR=10.109.0.0/16

# install_shared HOST: HOST's half of the shared pair (the control plane's on CP, else the data
# plane's). Under MC_SHARED an install already on the host is used when status calls it healthy.
install_shared() {
	local host=$1 status=0
	if [[ ${MC_SHARED:-} == 1 ]]; then
		# The data dir is there either way (a bind mount): status tells an install (exit 3: none).
		mc "$host" status -q >/dev/null 2>&1 || status=$?
		if ((status == 4)); then
			# Unhealthy may be passing: k8ssandra-operator restarts itself when its ClientConfigs
			# change, as a suite's register or deregister does.
			wait_until "the shared install on $host to be healthy" 180 mc "$host" status -q && status=0 || status=4
		fi
		if ((status == 0)); then
			echo "$host" >>"$BATS_FILE_TMPDIR/installed"
			return 0
		elif ((status != 3)); then
			echo "the shared install on $host is not healthy (status exit $status):" >&2
			mc "$host" status >&2
			return 1
		fi
	fi
	if [[ $host == "$CP" ]]; then
		install_platform "$host" "$SHARED_CP_CIDR" control-plane --context-name CP_EAST
	else
		# The control plane's telemetry aggregator, as the docs' data plane install names it.
		install_platform "$host" "$SHARED_DP_CIDR" data-plane --context-name DP_WEST \
			--telemetry-aggregator-url "http://$(host_address "$CP"):30600"
	fi
}

# cleanup_host HOST: after a failed step, a support bundle of the host into MC_ARTIFACTS; then
# reset, and the guard removed.
cleanup_host() {
	local host=$1
	if [[ -f $BATS_FILE_TMPDIR/failed ]] && on "$host" test -d "$DATA_DIR"; then
		local name
		name="$(basename "$BATS_TEST_FILENAME" .bats)-$host.tar.gz"
		mc "$host" support-bundle -q --out "/tmp/$name" && on "$host" cat "/tmp/$name" >"$MC_ARTIFACTS/$name" &&
			on "$host" rm -f "/tmp/$name" && echo "# support bundle: $MC_ARTIFACTS/$name" >&3
	fi
	# The shared pair stays installed for the next suite: run.sh resets it after the last.
	if [[ ${MC_SHARED:-} != 1 ]] && on "$host" test -d "$DATA_DIR"; then
		mc "$host" reset --yes >/dev/null
	fi
	if [[ -f $BATS_FILE_TMPDIR/guarded-$host ]]; then
		testhost "$host" guard-down
		rm "$BATS_FILE_TMPDIR/guarded-$host"
	fi
}

# cleanup_installs undoes every install_platform and guard of the suite; a suite's teardown_file
# calls it.
cleanup_installs() {
	local host status=0
	[[ -z ${MC_SUITE:-} ]] || echo "teardown_file: cleaning up the hosts" >"$MC_ARTIFACTS/$MC_SUITE.step"
	for host in "${HOSTS[@]}"; do
		if grep -qx "$host" "$BATS_FILE_TMPDIR/installed" 2>/dev/null || [[ -f $BATS_FILE_TMPDIR/guarded-$host ]]; then
			cleanup_host "$host" || status=1
		fi
	done
	return "$status"
}

# A suite's steps build on each other: after a failed step the rest are skipped, naming it. A
# suite that needs more hosts than one names them, the control plane first, in a line
# SUITE_HOSTS="cp-east dp-west" before loading this (run.sh reads it, and gives the podman, lima
# and vagrant targets' hosts those names); where there are fewer hosts (the local target is one),
# each step is skipped with the reason.
setup() {
	[[ -z ${MC_SUITE:-} ]] || echo "$BATS_TEST_DESCRIPTION" >"$MC_ARTIFACTS/$MC_SUITE.step"
	local wanted
	read -ra wanted <<<"${SUITE_HOSTS:-cp-east}"
	if [[ ${#wanted[@]} -gt ${#HOSTS[@]} ]]; then
		skip "needs ${#wanted[@]} hosts (${wanted[*]}), and this target has ${#HOSTS[@]} (one runtime per kernel: installs share /etc/k0s, /run/k0s and the kubelet's cgroups); run with --target podman"
	fi
	if [[ -f $BATS_FILE_TMPDIR/failed ]]; then
		skip "step \"$(cat "$BATS_FILE_TMPDIR/failed")\" failed"
	fi
}

teardown() {
	if [[ -z ${BATS_TEST_COMPLETED:-} && -z ${BATS_TEST_SKIPPED:-} && ! -f $BATS_FILE_TMPDIR/failed ]]; then
		echo "$BATS_TEST_DESCRIPTION" >"$BATS_FILE_TMPDIR/failed"
	fi
}

# wait_until DESCRIPTION SECONDS CMD [ARG...]: run the command every 2 s until it succeeds.
wait_until() {
	local what=$1 seconds=$2
	shift 2
	local deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "timed out after ${seconds}s waiting for $what; last try:" >&2
			"$@" >&2 || true
			return 1
		fi
		sleep 2
	done
}

# kubectl_prints HOST WANT ARG...: kubectl prints exactly WANT.
kubectl_prints() {
	local host=$1 want=$2 out
	shift 2
	out=$(kubectl_on "$host" "$@" 2>&1) || true
	if [[ $out != "$want" ]]; then
		echo "kubectl $* printed: $out (want: $want)"
		return 1
	fi
}

# run_hello HOST: the suites' workload (suites/hello.yaml), Ready; its image is handed to the
# runtime as k0s imports images, unless an air-gap bundle brought it.
run_hello() {
	on "$1" sh -c "test -e '$DATA_DIR/k0s/images/bundle-hello.tar' || cp '$MC_STAGE/images/hello.tar' '$DATA_DIR/k0s/images/hello.tar'"
	kubectl_on "$1" apply -f - <"$MC_REPO/vm-tests/suites/hello.yaml"
	kubectl_on "$1" wait --for=condition=Ready pod/hello --timeout=180s
}

# in_range ADDR CIDR: an IPv4 address is in a range.
in_range() {
	local addr=$1 net=${2%/*} len=${2#*/}
	local a n
	a=$(ip4_int "$addr") n=$(ip4_int "$net")
	(((a >> (32 - len)) == (n >> (32 - len))))
}

ip4_int() {
	local IFS=. o
	read -ra o <<<"$1"
	echo $(((o[0] << 24) + (o[1] << 16) + (o[2] << 8) + o[3]))
}

# snapshot HOST NAME: record on the host what reset must restore (MC_NETNS's network state).
snapshot() {
	local take=("$MC_STAGE/testhost" snapshot)
	[[ -z $MC_NETNS ]] || take+=(--netns "$MC_NETNS")
	on "$1" sh -c "$(printf '%q ' "${take[@]}") >$(printf '%q' "$MC_STAGE/$2.json")"
}

# unchanged_since HOST NAME [--running DATADIR]: the host is as the snapshot NAME recorded it;
# else the differences. --running: the runtime of DATADIR runs in both, its live state not compared.
unchanged_since() {
	snapshot "$1" now
	on "$1" "$MC_STAGE/testhost" diff "${@:3}" "$MC_STAGE/$2.json" "$MC_STAGE/now.json"
}

# stop_runtime HOST: stop the runtime as a reboot would: its systemd unit, or the supervisor.
stop_runtime() {
	if on "$1" test -d /run/systemd/system; then
		on "$1" systemctl stop mission-control-k0s.service
	else
		local pid
		pid=$(on "$1" cat "$DATA_DIR/run/supervisor.pid")
		on "$1" kill -TERM "$pid"
		wait_until "the supervisor $pid to stop" 120 on "$1" sh -c "! kill -0 $pid"
	fi
}

# The Cassandra stand-ins of datacenter dc1 in namespace db (the database suites').
DC1_PODS=(-n db get pods -l cassandra.datastax.com/datacenter=dc1)

# ring_joined HOST N: dc1 has N pods, and each stand-in, asked through HOST's API server's pod
# proxy, reports all N pods' addresses in its ring, over TLS on 7001.
ring_joined() {
	local host=$1 n=$2 pods ips want pod report got
	read -ra pods <<<"$(kubectl_on "$host" "${DC1_PODS[@]}" -o 'jsonpath={.items[*].metadata.name}')"
	ips=$(kubectl_on "$host" "${DC1_PODS[@]}" -o 'jsonpath={.items[*].status.podIP}')
	want=$(tr ' ' '\n' <<<"$ips" | LC_ALL=C sort | paste -sd' ')
	[[ ${#pods[@]} == "$n" ]] || { echo "dc1 has pods ${pods[*]}, want $n" && return 1; }
	for pod in "${pods[@]}"; do
		report=$(kubectl_on "$host" get --raw "/api/v1/namespaces/db/pods/$pod:8080/proxy/api/v0/standin") || return 1
		got=$(jq -r '"\(.tls) \(.internodePort) " + ([.ring[].ip] | sort | join(" "))' <<<"$report")
		[[ $got == "true 7001 $want" ]] || { echo "$pod reports '$got', want 'true 7001 $want'" && return 1; }
	done
}

# ALL_PODS: kubectl's arguments for the database pods of cluster demo (namespace db), every
# datacenter's in the cluster asked.
ALL_PODS=(-n db get pods -l cassandra.datastax.com/cluster=demo)

# ring_across N: cluster demo has N stand-ins in the clusters of CP and DP, and each, asked through its own
# cluster's API server, reports all N pods' addresses in its ring, over TLS on 7001.
ring_across() {
	local n=$1 host pod ips="" want report got count=0
	for host in "$CP" "$DP"; do
		ips+=" $(kubectl_on "$host" "${ALL_PODS[@]}" -o 'jsonpath={.items[*].status.podIP}')"
	done
	want=$(tr ' ' '\n' <<<"$ips" | sed '/^$/d' | LC_ALL=C sort | paste -sd' ')
	for host in "$CP" "$DP"; do
		for pod in $(kubectl_on "$host" "${ALL_PODS[@]}" -o 'jsonpath={.items[*].metadata.name}'); do
			count=$((count + 1))
			report=$(kubectl_on "$host" get --raw "/api/v1/namespaces/db/pods/$pod:8080/proxy/api/v0/standin") || return 1
			got=$(jq -r '"\(.tls) \(.internodePort) " + ([.ring[].ip] | sort | join(" "))' <<<"$report")
			[[ $got == "true 7001 $want" ]] || { echo "$pod reports '$got', want 'true 7001 $want'" && return 1; }
		done
	done
	[[ $count == "$n" ]] || { echo "the cluster has $count stand-ins, want $n" && return 1; }
}

# dc_ready HOST DC: the CassandraDatacenter DC in HOST's cluster is Ready.
dc_ready() {
	kubectl_prints "$1" "True Ready" -n db get cassandradatacenter "$2" -o \
		'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.cassandraOperatorProgress}'
}

# copy_token FROM PATH HOST: the join token file PATH on FROM, copied to HOST's
# $MC_STAGE/join.token (root only: it is a credential).
copy_token() {
	on "$1" cat "$2" | on "$3" sh -c "umask 077 && cat >'$MC_STAGE/join.token'"
}

# join_with FROM PATH HOST LICENSE [ARG...]: join HOST with the token file PATH on FROM and the
# license; cleanup resets it.
join_with() {
	local from=$1 path=$2 host=$3 license=$4
	shift 4
	copy_token "$from" "$path" "$host"
	echo "$host" >>"$BATS_FILE_TMPDIR/installed"
	mc "$host" join --license "$license" "$MC_STAGE/join.token" --wait-timeout 4m --yes "$@"
}

# host_address HOST: the address HOST has on the test network, which the other hosts reach.
host_address() {
	if [[ -n ${MC_PRIVATE_NET:-} ]]; then
		on "$1" ip -o -4 addr show to "$MC_PRIVATE_NET" | awk '{split($4, a, "/"); print a[1]; exit}'
	else
		on "$1" hostname -I | awk '{print $1}'
	fi
}
