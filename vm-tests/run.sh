#!/usr/bin/env bash
# vm-tests/run.sh: run the bats suites against hosts, as a user would use the binary.
#
#   vm-tests/run.sh --target local|podman|lima|vagrant [--distro LIST] [--suite LIST] [--out DIR] [--keep]
#                   [--suites-dir DIR]
#
# local runs against this machine (as root). podman gives each suite fresh hosts: Debian 12
# system containers (systemd as PID 1) on an internal network with no route off the machine,
# named as the suite's SUITE_HOSTS (cp-east when it names none). lima and vagrant create a VM per
# distribution and host. The binaries are copied to every host; the suites run there (podman
# exec, ssh); the hosts go at the end (--keep leaves them, and says how to enter and remove
# them: with podman, the last suite's). Each suite writes TAP to OUT/TARGET[-DISTRO]/SUITE.tap and JUnit beside it; a failed
# suite leaves the support bundle of each of its hosts there too. Every suite runs under its own
# bound (SUITE_TIMEOUT=30m in the suite; 20m when it names none): one that runs out of time is a
# failed suite, named with the step it was in, and the run goes on. OUT/TARGET/durations lists
# each suite's seconds. Exits 1 when a step of any suite failed, or was skipped under CI=true.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# The supported distributions: a Lima template and a Vagrant box each.
distros_all=(ubuntu-22.04 ubuntu-24.04 debian-12 rocky-9)

usage() {
	sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//' >&2
	echo "suites: $(suite_names | tr '\n' ' ')" >&2
	exit 2
}
die() {
	echo "vm-tests: $*" >&2
	exit 2
}
suite_names() { for f in "$suites_dir"/*.bats; do basename "$f" .bats; done; }

target="" distros="" suites="" out="$repo/bin/vm-tests" keep=0 suites_dir=$here/suites
while [[ $# -gt 0 ]]; do
	case $1 in
	--target) target=${2:-} && shift ;;
	--distro) distros=${2:-} && shift ;;
	--suite) suites=${2:-} && shift ;;
	--out) out=${2:-} && shift ;;
	--keep) keep=1 ;;
	--suites-dir) suites_dir=$(cd "${2:?--suites-dir needs a directory}" && pwd) && shift ;;
	-h | --help) usage ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
	shift
done
case $target in
local | podman | lima | vagrant) ;;
"") die "--target is required: local, podman, lima or vagrant" ;;
*) die "--target $target: use local, podman, lima or vagrant" ;;
esac
[[ $target == lima || $target == vagrant || -z $distros ]] || die "--distro is for lima and vagrant: $target's hosts run one distribution"

suites=${suites//,/ }
[[ -n $suites ]] || suites=$(suite_names | tr '\n' ' ')
for s in $suites; do
	[[ -f $suites_dir/$s.bats ]] || die "no suite $s: the suites are $(suite_names | tr '\n' ' ')"
done
distros=${distros//,/ }
[[ -n $distros ]] || distros="${distros_all[*]}"
for d in $distros; do
	[[ " ${distros_all[*]} " == *" $d "* ]] || die "--distro $d: the distributions are ${distros_all[*]}"
done

command -v bats >/dev/null || die "bats is not installed: apt-get install bats bats-support bats-assert (or npm install -g bats)"
command -v jq >/dev/null || die "jq is not installed: apt-get install jq"
case $target in
podman)
	command -v podman >/dev/null || die "podman is not installed: apt-get install podman"
	command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed: apt-get install mmdebstrap"
	[[ $EUID -eq 0 ]] || die "the podman target runs privileged system containers: run as root"
	# The hosts' kubelets share this machine's disk and evict pods when less than 15% of it is free
	# (their nodefs.available); the suites write up to about 10 GiB more. Refuse to start where
	# pods would be evicted midway, which fails suites far from the cause.
	read -r disk_size disk_free < <(df --output=size,avail -B1 /var/lib | tail -1)
	disk_need=$((disk_size * 15 / 100 + 10 * 1024 ** 3))
	((disk_free >= disk_need)) || die "$((disk_free / 1024 ** 3)) GiB free on this machine's disk: the hosts' kubelets evict pods below $((disk_size * 15 / 100 / 1024 ** 3)) GiB (15%) and the suites need about 10 GiB more; free $(((disk_need - disk_free) / 1024 ** 3 + 1)) GiB (e.g. old payloads in ~/.cache/mission-control/runtime, go clean -cache)"
	;;
lima) command -v limactl >/dev/null || die "limactl is not installed: see https://lima-vm.io" ;;
vagrant) command -v vagrant >/dev/null || die "vagrant is not installed: see https://developer.hashicorp.com/vagrant" ;;
esac
for b in mission-control mcctl; do
	[[ -x $repo/bin/$b ]] || die "bin/$b is missing: run make build first"
done

# suite_hosts SUITE: the hosts a suite asks for (SUITE_HOSTS="cp-east dp-west"), the control
# plane's first; cp-east when it names none.
suite_hosts() {
	local line
	line=$(grep -m1 -E '^SUITE_HOSTS=' "$suites_dir/$1.bats" || true)
	line=${line#SUITE_HOSTS=}
	line=${line%%#*}
	line=${line//\"/}
	echo "${line:-cp-east}"
}

# suite_shared SUITE: the order of a suite that runs on the shared pair (SUITE_SHARED=pair:2),
# else nothing.
suite_shared() {
	local line
	line=$(grep -m1 -E '^SUITE_SHARED=pair:[0-9]+' "$suites_dir/$1.bats" || true)
	line=${line#SUITE_SHARED=pair:}
	echo "${line%%[!0-9]*}"
}

# suite_timeout SUITE: the bound a suite names (SUITE_TIMEOUT=30m), else 20m.
suite_timeout() {
	local line
	line=$(grep -m1 -E '^SUITE_TIMEOUT=' "$suites_dir/$1.bats" || true)
	line=${line#SUITE_TIMEOUT=}
	line=${line%%#*}
	line=${line//[\" ]/}
	echo "${line:-20m}"
}

# pm SECONDS ARG...: podman, bounded: podman 4.3 can deadlock on its own locks, and a run must
# fail in minutes, saying so, rather than hang.
pm() {
	local t=$1 status=0
	shift
	timeout -k 5s "${t}s" podman "$@" || status=$?
	if ((status == 124 || status == 137)); then
		echo "vm-tests: podman did not answer in ${t}s (podman $*); podman 4.3 can deadlock on its locks: podman system renumber, or a reboot, clears them" >&2
	fi
	return "$status"
}

# all_hosts: every host a selected suite asks for, once each, in order.
all_hosts() {
	local s h seen=" "
	for s in $suites; do
		for h in $(suite_hosts "$s"); do
			[[ $seen == *" $h "* ]] || { echo "$h" && seen+="$h "; }
		done
	done
}

# stage: what every host needs, in one directory: the binaries, the license and the development
# signing key (the suites need a development build: both are the development key's), and the
# test image and host helper, built for the hosts' architecture.
stage=$out/stage
stage() {
	rm -rf "$stage" && mkdir -p "$stage"
	local arch
	case $(od -An -tx1 -j18 -N1 "$repo/bin/mission-control" | tr -d ' ') in # the ELF header's machine
	3e) arch=amd64 ;;
	b7) arch=arm64 ;;
	*) die "bin/mission-control is not a Linux amd64 or arm64 executable" ;;
	esac
	cp "$repo/bin/mission-control" "$repo/bin/mcctl" "$repo/examples/license.yaml" "$repo/examples/development-license.key" "$stage/"
	(
		cd "$repo"
		export CGO_ENABLED=0 GOOS=linux GOARCH=$arch
		go build -trimpath -o "$stage/testhost" ./hack/testhost
		go build -trimpath -o "$stage/hello" ./e2e/hello
		mkdir "$stage/images"
		go run ./hack/imagebuild -name localhost/mission-control-e2e/hello:1 -out "$stage/images/hello.tar" -entrypoint /hello "/hello=$stage/hello"
	)
	rm "$stage/hello"
	# The Cassandra stand-ins (test doubles, e2e/standin) for the database suite, under the
	# references cass-operator computes: built for this machine, as the podman hosts are.
	"$repo/hack/standin-images.sh" "$stage/images" || die "the Cassandra stand-ins' images could not be built: see the output above"
	# Licenses a user may wrongly hold, signed with the development key like the example.
	mkdir "$stage/licenses"
	sign() { (cd "$repo" && go run ./cmd/mclicense sign --private-key examples/development-license.key --customer "vm-tests" "$@"); }
	sign --license-id L-VMT-EXPIRED --issued 2020-01-01 --expires 2021-01-01 --out "$stage/licenses/expired.yaml"
	sign --license-id L-VMT-DP --expires 2036-01-01 --modes data-plane --out "$stage/licenses/data-plane-only.yaml"
	sign --license-id L-VMT-ONLINE --expires 2036-01-01 --out "$stage/licenses/no-airgap.yaml"
	sign --license-id L-VMT-TWO-NODES --expires 2036-01-01 --max-nodes 2 --out "$stage/licenses/two-nodes.yaml"
	sed 's/^  customer: .*/  customer: Someone Else/' "$repo/examples/license.yaml" >"$stage/licenses/edited.yaml"
}

failed=()
skipped=0
suite_pid=""
# run_suite NAME SUITE: run one suite with the environment the suites read, under its bound;
# results in out/NAME. A skipped step is counted, and fails the run under CI=true: CI runs every
# step. bats runs in the background so that this shell's traps fire on TERM and INT at once.
run_suite() {
	local name=$1 s=$2 results=$out/$1 status=0 start=$SECONDS n bound tail_pid
	bound=$(suite_timeout "$s")
	mkdir -p "$results"
	rm -f "$results/$s.step"
	echo "# $name: suite $s (bound $bound)" >&2
	: >"$results/$s.tap"
	MC_ARTIFACTS=$results MC_SUITE=$s MC_REPO=$repo BATS_LIB_PATH=${BATS_LIB_PATH:-/usr/lib/bats:/usr/local/lib/bats:/opt/homebrew/lib} \
		timeout -k 30s "$bound" bats --formatter tap --report-formatter junit --output "$results" "$suites_dir/$s.bats" >"$results/$s.tap" &
	suite_pid=$!
	tail -n +1 -f --pid="$suite_pid" "$results/$s.tap" &
	tail_pid=$!
	wait "$suite_pid" || status=$?
	suite_pid=""
	wait "$tail_pid" 2>/dev/null || true
	[[ -f $results/report.xml ]] && mv "$results/report.xml" "$results/$s.xml"
	while read -r line; do
		failed+=("$name: suite $s, step \"$line\"")
	done < <(grep -E '^not ok ' "$results/$s.tap" | sed -E 's/^not ok [0-9]+ //; s/ # in [0-9]+ ?ms$//')
	local result=ok
	if ((status == 124 || status == 137)); then
		result="timed out after $bound"
		failed+=("$name: suite $s timed out after $bound in step \"$(cat "$results/$s.step" 2>/dev/null || echo "before its first step")\"")
		save_bundles "$results" "$s"
	elif [[ $status -ne 0 ]] && ! grep -q '^not ok ' "$results/$s.tap"; then
		result="did not run to the end (bats exit $status)"
		failed+=("$name: suite $s did not run to the end (bats exit $status)")
	elif [[ $status -ne 0 ]]; then
		result=failed
	fi
	n=$(grep -cE '^ok [0-9]+ .* # skip' "$results/$s.tap" || true)
	if [[ $n -gt 0 ]]; then
		skipped=$((skipped + n))
		if [[ ${CI:-} == true ]]; then failed+=("$name: suite $s skipped $n steps, and CI must run every step"); fi
	fi
	printf '%s\t%s\t%s\n' "$s" "$((SECONDS - start))" "$result${n:+, $n skipped}" >>"$results/durations"
	echo "# $name: suite $s took $((SECONDS - start))s: $result${n:+, $n steps skipped}" >&2
}

# stop_suite: a suite still running (the run was interrupted) ends, with every process of its
# bats (timeout leads a process group of its own).
stop_suite() {
	[[ -n $suite_pid ]] || return 0
	kill -TERM -- "-$suite_pid" 2>/dev/null || true
	for _ in $(seq 30); do kill -0 "$suite_pid" 2>/dev/null || break; sleep 1; done
	kill -KILL -- "-$suite_pid" 2>/dev/null || true
	suite_pid=""
}

# host_exec HOST CMD...: a command on a host under test from the runner, bounded (5 minutes).
host_exec() {
	local h=$1
	shift
	case $target in
	local) timeout -k 10s 300s "$@" ;;
	podman) timeout -k 10s 330s podman exec "$(podman_ctr "$h")" timeout -k 10s 300s "$@" ;;
	*) timeout -k 10s 330s ssh -F "$MC_SSH_CONFIG" -o BatchMode=yes -o LogLevel=ERROR "$h" "sudo -n timeout -k 10s 300s $(printf '%q ' "$@")" ;;
	esac
}

# save_bundles RESULTS SUITE: after a suite that ran out of time (its teardown never ran), the
# support bundle of each of its hosts that has an install, into RESULTS; on the local target the
# install is then reset, as the suite's teardown would have.
save_bundles() {
	local results=$1 s=$2 h
	for h in ${MC_HOSTS:-}; do
		host_exec "$h" test -d /var/lib/mission-control || continue
		if host_exec "$h" "$MC_STAGE/mission-control" support-bundle -q --out "/tmp/$s-$h.tar.gz" >/dev/null &&
			host_exec "$h" cat "/tmp/$s-$h.tar.gz" >"$results/$s-$h.tar.gz"; then
			echo "# support bundle: $results/$s-$h.tar.gz" >&2
		else
			echo "vm-tests: no support bundle of $h after suite $s timed out" >&2
		fi
		host_exec "$h" rm -f "/tmp/$s-$h.tar.gz" || true
		if [[ $target == local ]]; then
			host_exec "$h" "$MC_STAGE/mission-control" reset --yes -q >/dev/null || echo "vm-tests: reset of $h after suite $s timed out failed" >&2
			host_exec "$h" "$MC_STAGE/testhost" guard-down || true
		fi
	done
}

# run_suites NAME: every selected suite on the hosts already up.
run_suites() {
	local s
	rm -rf "${out:?}/$1"
	trap 'stop_suite' EXIT
	trap 'exit 130' INT TERM
	for s in $suites; do run_suite "$1" "$s"; done
}

# ssh_copy_stage HOST: put the stage at /var/tmp/mc-vm-tests on a host.
ssh_copy_stage() {
	ssh -F "$MC_SSH_CONFIG" -o BatchMode=yes "$1" "sudo rm -rf /var/tmp/mc-vm-tests && sudo mkdir -p /var/tmp/mc-vm-tests"
	tar -C "$stage" -cf - . | ssh -F "$MC_SSH_CONFIG" -o BatchMode=yes "$1" "sudo tar -C /var/tmp/mc-vm-tests -xf -"
}

# lima_up DISTRO SSH_CONFIG HOST...: a VM per host from the distribution's template, all on Lima's
# user-v2 network (they reach each other); the ssh config names each VM by its host name.
lima_up() {
	local distro=$1 cfg=$2 h vm
	shift 2
	: >"$cfg"
	for h in "$@"; do
		vm=$(vm_name "$distro" "$h")
		limactl start --tty=false --name "$vm" "$here/lima/$distro.yaml"
		sed "s/^Host .*/Host $h/" "$(limactl list --format '{{.Dir}}' "$vm")/ssh.config" >>"$cfg"
	done
}
lima_down() {
	local distro=$1 h
	shift
	for h in "$@"; do limactl delete --force "$(vm_name "$distro" "$h")"; done
}
vm_name() { echo "mc-${1//./}-$2"; }

# vagrant_up DISTRO SSH_CONFIG HOST...: the Vagrantfile's machines for the distribution, each with
# its own state directory so that distributions do not share machines.
vagrant_up() {
	local distro=$1 cfg=$2
	shift 2
	(cd "$here" && MC_VM_DISTRO=$distro VAGRANT_DOTFILE_PATH=$out/vagrant-$distro vagrant up "$@" &&
		MC_VM_DISTRO=$distro VAGRANT_DOTFILE_PATH=$out/vagrant-$distro vagrant ssh-config "$@" >"$cfg")
}
vagrant_down() {
	local distro=$1
	shift
	(cd "$here" && MC_VM_DISTRO=$distro VAGRANT_DOTFILE_PATH=$out/vagrant-$distro vagrant destroy -f "$@")
}

# The podman target's hosts: a Debian 12 rootfs with systemd, made once with mmdebstrap and cached
# by its package list; a container per host from it, on an internal network (no NAT, no route off
# the machine) whose subnet collides with nothing here; each host's data dir a bind mount of a
# directory on the machine's filesystem (containerd cannot stack overlays on podman's overlay).
host_packages=(systemd systemd-sysv dbus iproute2 procps iptables nftables kmod ca-certificates)
podman_image() {
	local key cache tar sources=()
	key=$(printf '%s\n' bookworm "${host_packages[@]}" | sha256sum | cut -c1-12)
	podman_image_ref=localhost/mission-control-vmtest-host:$key
	pm 60 image exists "$podman_image_ref" && return
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/mission-control/hosts
	tar=$cache/rootfs-$key.tar
	if [[ ! -f $tar ]]; then
		mkdir -p "$cache"
		[[ -f /etc/apt/sources.list.d/debian.sources ]] && sources=(/etc/apt/sources.list.d/debian.sources)
		echo "# podman: building the hosts' rootfs (once; cached in $tar)" >&2
		timeout -k 30s 30m mmdebstrap --quiet --format=tar --variant=apt --aptopt='Acquire::Retries "3"' \
			--include="$(IFS=, && echo "${host_packages[*]}")" bookworm "$tar.tmp" "${sources[@]}" ||
			die "mmdebstrap could not make the hosts' rootfs in 30 minutes (exit $?): see its output above"
		mv "$tar.tmp" "$tar"
	fi
	pm 600 import --quiet "$tar" "$podman_image_ref" >/dev/null || die "podman import of the hosts' rootfs failed"
}

podman_work=$out/podman-hosts
# The kernel parameters the hosts' kubelets set that are not a network namespace's but the
# machine's: each host's reset puts back what it found, which another host may have changed
# first; the run puts back what the machine had.
kernel_sysctls=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
podman_net=mc-vmtest-$$
podman_ctr() { echo "mc-vmtest-$1"; }

# podman_up HOST...: fresh hosts, systemd running in each, the stage at MC_STAGE.
podman_up() {
	local h ctr state
	podman_down "$@" # an earlier suite's, kept by --keep
	for h in "$@"; do
		ctr=$(podman_ctr "$h")
		mkdir -p "$podman_work/$h/data"
		pm 120 run -d --name "$ctr" --hostname "$h" --runtime runc --privileged --systemd=always --cgroupns=private \
			--network "$podman_net" --ulimit nofile=20000:20000 --ulimit nproc=30000:30000 \
			-v "$podman_work/$h/data:/var/lib/mission-control" -v "$here/lib/podman-host-init:/usr/local/sbin/podman-host-init:ro" \
			"$podman_image_ref" /usr/local/sbin/podman-host-init >/dev/null || die "host $h: podman run failed"
	done
	for h in "$@"; do
		ctr=$(podman_ctr "$h")
		local deadline=$((SECONDS + 120))
		state=""
		while ((SECONDS < deadline)); do # systemd answers once its manager is up, then waits for start-up
			state=$(pm 60 exec "$ctr" timeout 50 systemctl is-system-running --wait 2>/dev/null || true)
			[[ -z $state ]] || break
			sleep 1
		done
		[[ $state == running || $state == degraded ]] || die "host $h: systemd is ${state:-not answering}, not running (podman logs $ctr)"
		# A default route, as hosts have: the runtime reaches its Services through it (kube-proxy
		# rewrites their addresses). It leads nowhere: the internal network has no gateway, and no
		# one answers the ARP for an address off it.
		pm 30 exec "$ctr" ip route add default dev eth0 || die "host $h: no default route"
		pm 30 exec "$ctr" mkdir -p "$MC_STAGE" || die "host $h: no stage directory"
		pm 300 cp "$stage/." "$ctr:$MC_STAGE" || die "host $h: the stage could not be copied"
	done
}

# run_shared SUITE...: the suites that only need installed hosts, in their SUITE_SHARED order, on
# one control plane and data plane pair: the first suite installs it, the next ones use it. After
# a suite that failed (or ran out of time) the pair is unknown: the next suite gets a new one.
# The last one's pair is reset, as a user would, so the run checks what reset leaves.
run_shared() {
	local s pair=(cp-east dp-west) before h status
	echo "# podman: shared pair ${pair[*]} for $*" >&2
	podman_up "${pair[@]}"
	export MC_HOSTS="${pair[*]}" MC_SHARED=1
	local ordered=()
	for s in "$@"; do ordered+=("$(suite_shared "$s") $s"); done
	local order left
	order=$(printf '%s\n' "${ordered[@]}" | sort -n | cut -d' ' -f2)
	left=$(wc -w <<<"$order")
	for s in $order; do
		before=${#failed[@]}
		run_suite podman "$s"
		left=$((left - 1))
		if ((${#failed[@]} > before && left > 0)); then
			echo "# podman: suite $s failed: a new shared pair for the next suite" >&2
			podman_up "${pair[@]}"
		fi
	done
	for h in "${pair[@]}"; do
		status=0
		host_exec "$h" "$MC_STAGE/mission-control" status -q >/dev/null 2>&1 || status=$?
		((status != 3)) || continue # not installed
		host_exec "$h" "$MC_STAGE/mission-control" reset --yes -q >/dev/null || failed+=("podman: reset of the shared pair's $h failed")
	done
	unset MC_SHARED
	[[ $keep == 1 ]] || podman_down "${pair[@]}"
}

# podman_down HOST...: the hosts and their data dirs go.
podman_down() {
	local h
	for h in "$@"; do
		pm 60 rm --force --time 5 "$(podman_ctr "$h")" >/dev/null 2>&1 || true
		rm -rf "${podman_work:?}/$h"
	done
}

# podman_network_rm NET: the network goes, and what the CNI backend leaves of it: its leases, and
# its firewall chains when they were not there before the run.
podman_network_rm() {
	local chain
	pm 60 network rm --force "$1" >/dev/null 2>&1 || true
	rm -rf "/var/lib/cni/networks/$1"
	[[ -f $out/machine-chains ]] || return 0 # the chains the machine had are unknown: keep them
	for chain in CNI-FORWARD CNI-ADMIN; do
		if ! grep -qx ":$chain" "$out/machine-chains" && iptables-nft -S "$chain" >/dev/null 2>&1; then
			iptables-nft -D FORWARD -m comment --comment "CNI firewall plugin rules" -j "$chain" 2>/dev/null || true
			iptables-nft -F "$chain" && iptables-nft -X "$chain"
		fi
	done
}

# podman_clean_start: what an earlier run left (interrupted, or --keep) would share the machine
# with this run's hosts and spoil its snapshots: its hosts, networks, their CNI chains and leases
# and the kernel parameters it changed (put back from the file it saved) go first. What is not
# the runner's stops the run, naming the fix: an install on the machine itself shares the kernel
# (and the kubelet's cgroups and iptables) with the hosts.
podman_clean_start() {
	local names ctrs nets c n
	[[ ! -e /var/lib/mission-control ]] || die "this machine has a mission-control install of its own (/var/lib/mission-control): remove it with mission-control reset --yes, then run again"
	names=$(pm 30 ps -a --format '{{.Names}}') || die "podman ps -a does not answer: repair podman's state first (podman system renumber)"
	ctrs=$(grep '^mc-vmtest-' <<<"$names" | tr '\n' ' ' || true)
	nets=$(pm 30 network ls --format '{{.Name}}' | grep '^mc-vmtest-' | tr '\n' ' ' || true)
	[[ -n $ctrs$nets ]] || return 0
	echo "vm-tests: removing what an earlier run left: ${ctrs}${nets}" >&2
	for c in $ctrs; do pm 60 rm --force --time 5 "$c" >/dev/null || die "could not remove the earlier run's host $c: podman rm -f $c"; done
	for n in $nets; do podman_network_rm "$n"; done
	if [[ -f $out/machine-sysctls ]]; then
		while read -r key value; do sysctl -qw "$key=$value"; done <"$out/machine-sysctls"
	fi
	rm -rf "$podman_work"
}

# podman_prime: podman's first use on this machine makes state it keeps (its parent cgroups,
# CNI's lock, its secrets store): a throwaway container on a throwaway network makes it before the machine is
# snapshotted, so that the snapshot after the run compares what the run itself made.
podman_prime() {
	local net=mc-vmtest-prime-$$ status=0
	pm 30 secret ls >/dev/null
	pm 30 network create --internal "$net" >/dev/null
	pm 120 run --rm --runtime runc --network "$net" --ulimit nofile=20000:20000 --ulimit nproc=30000:30000 "$podman_image_ref" true || status=$?
	podman_network_rm "$net"
	return "$status"
}

# podman_teardown: everything the run made goes, and the machine is as the run found it. podman's
# CNI backend leaves its firewall chains and the network's leases behind when a network goes:
# they go too (the chains when they were not there before).
podman_teardown() {
	local h
	trap - EXIT INT TERM
	stop_suite
	if [[ $keep == 1 ]]; then
		echo "vm-tests: kept the hosts: enter one with podman exec -it $(podman_ctr cp-east) bash;" \
			"remove them with podman rm -f $(for h in $(all_hosts); do printf '%s ' "$(podman_ctr "$h")"; done)&& podman network rm $podman_net" >&2
		return
	fi
	for h in $(all_hosts); do podman_down "$h"; done
	while read -r key value; do sysctl -qw "$key=$value"; done <"$out/machine-sysctls"
	podman_network_rm "$podman_net"
	rm -rf "$podman_work"
	"$stage/testhost" snapshot >"$out/machine-after.json"
	local diff
	if ! diff=$("$stage/testhost" diff "$out/machine-before.json" "$out/machine-after.json"); then
		failed+=("podman: the machine is not as the run found it: $(tr '\n' ';' <<<"$diff")")
	fi
}

stage
export MC_TARGET=$target
case $target in
local)
	[[ $EUID -eq 0 ]] || sudo -n true || die "the local target installs on this machine: run as root or with passwordless sudo"
	[[ ! -e /var/lib/mission-control ]] || die "/var/lib/mission-control exists: this machine has an install; run mission-control reset first"
	export MC_HOSTS=local MC_STAGE=$stage MC_NET_GUARD=1
	run_suites local
	;;
podman)
	podman_clean_start
	podman_image
	iptables-nft-save -t filter 2>/dev/null | awk '/^:/{print $1}' >"$out/machine-chains"
	for key in "${kernel_sysctls[@]}"; do echo "$key $(sysctl -n "$key")"; done >"$out/machine-sysctls"
	podman_prime
	"$stage/testhost" snapshot >"$out/machine-before.json"
	trap podman_teardown EXIT
	trap 'exit 130' INT TERM
	subnet=$("$stage/testhost" free-range 172.16.0.0/12 24)
	pm 30 network create --internal --subnet "$subnet" "$podman_net" >/dev/null || die "podman network create failed"
	# No default route in the hosts: nodes take their address on the network (--network-interface).
	export MC_STAGE=/var/tmp/mc-vm-tests MC_PRIVATE_NET=$subnet MC_PODMAN_PREFIX=mc-vmtest-
	rm -rf "${out:?}/podman"
	shared=()
	for s in $suites; do
		if [[ -n $(suite_shared "$s") ]]; then
			shared+=("$s")
			continue
		fi
		read -ra hosts <<<"$(suite_hosts "$s")"
		podman_up "${hosts[@]}"
		export MC_HOSTS="${hosts[*]}"
		run_suite podman "$s"
		[[ $keep == 1 ]] || podman_down "${hosts[@]}"
	done
	[[ ${#shared[@]} -eq 0 ]] || run_shared "${shared[@]}"
	podman_teardown
	;;
lima | vagrant)
	read -ra hosts <<<"$(all_hosts | tr '\n' ' ')"
	# Vagrant's first interface is its NAT: nodes take their address on the private network.
	if [[ $target == vagrant ]]; then export MC_PRIVATE_NET=192.168.56.0/24; fi
	for distro in $distros; do
		export MC_HOSTS="${hosts[*]}" MC_STAGE=/var/tmp/mc-vm-tests MC_SSH_CONFIG=$out/$target-$distro.ssh-config
		# The VMs go however the run ends, unless --keep.
		if [[ $keep == 0 ]]; then trap 'stop_suite; "${target}_down" "$distro" "${hosts[@]}"' EXIT; fi
		trap 'exit 130' INT TERM
		"${target}_up" "$distro" "$MC_SSH_CONFIG" "${hosts[@]}"
		for h in "${hosts[@]}"; do
			ssh -F "$MC_SSH_CONFIG" -o BatchMode=yes "$h" "sudo bash -s" <"$here/provision.sh"
			ssh_copy_stage "$h"
		done
		run_suites "$target-$distro"
		if [[ $keep == 0 ]]; then
			trap - EXIT
			"${target}_down" "$distro" "${hosts[@]}"
		fi
	done
	;;
esac

if [[ ${#failed[@]} -gt 0 ]]; then
	printf 'vm-tests: FAILED %s\n' "${failed[@]}" >&2
	exit 1
fi
if [[ $skipped -gt 0 ]]; then
	echo "vm-tests: every step that ran passed; $skipped steps were skipped ($target: $suites)" >&2
else
	echo "vm-tests: every step of every suite passed ($target: $suites)" >&2
fi
