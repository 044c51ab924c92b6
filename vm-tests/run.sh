#!/usr/bin/env bash
# vm-tests/run.sh: run the bats suites against hosts, as a user would use the binary.
#
#   vm-tests/run.sh --target local|lima|vagrant [--distro LIST] [--suite LIST] [--out DIR] [--keep]
#
# local runs against this machine (as root); lima and vagrant create a VM per distribution (two,
# cp-east and dp-west on a private network, when a selected suite needs a host pair), copy the
# binaries there, run the suites over ssh, and destroy the VMs (--keep leaves them). Each suite
# writes TAP to OUT/TARGET[-DISTRO]/SUITE.tap and JUnit beside it; a failed suite leaves the
# support bundle of each of its hosts there too. Exits 1 when a step of any suite failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# The supported distributions: a Lima template and a Vagrant box each.
distros_all=(ubuntu-22.04 ubuntu-24.04 debian-12 rocky-9)

usage() {
	sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	echo "suites: $(suite_names | tr '\n' ' ')" >&2
	exit 2
}
die() {
	echo "vm-tests: $*" >&2
	exit 2
}
suite_names() { for f in "$here"/suites/*.bats; do basename "$f" .bats; done; }

target="" distros="" suites="" out="$repo/bin/vm-tests" keep=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--target) target=${2:-} && shift ;;
	--distro) distros=${2:-} && shift ;;
	--suite) suites=${2:-} && shift ;;
	--out) out=${2:-} && shift ;;
	--keep) keep=1 ;;
	-h | --help) usage ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
	shift
done
case $target in
local | lima | vagrant) ;;
"") die "--target is required: local, lima or vagrant" ;;
*) die "--target $target: use local, lima or vagrant" ;;
esac
[[ $target != local || -z $distros ]] || die "--distro is for lima and vagrant: local runs on this machine's distribution"

suites=${suites//,/ }
[[ -n $suites ]] || suites=$(suite_names | tr '\n' ' ')
for s in $suites; do
	[[ -f $here/suites/$s.bats ]] || die "no suite $s: the suites are $(suite_names | tr '\n' ' ')"
done
distros=${distros//,/ }
[[ -n $distros ]] || distros="${distros_all[*]}"
for d in $distros; do
	[[ " ${distros_all[*]} " == *" $d "* ]] || die "--distro $d: the distributions are ${distros_all[*]}"
done

command -v bats >/dev/null || die "bats is not installed: apt-get install bats bats-support bats-assert (or npm install -g bats)"
command -v jq >/dev/null || die "jq is not installed: apt-get install jq"
case $target in
lima) command -v limactl >/dev/null || die "limactl is not installed: see https://lima-vm.io" ;;
vagrant) command -v vagrant >/dev/null || die "vagrant is not installed: see https://developer.hashicorp.com/vagrant" ;;
esac
for b in mission-control mcctl; do
	[[ -x $repo/bin/$b ]] || die "bin/$b is missing: run make build first"
done

# needs_pair: whether a selected suite needs two hosts.
needs_pair() {
	local s
	for s in $suites; do
		grep -q '^SUITE_HOSTS=2 ' "$here/suites/$s.bats" && return 0
	done
	return 1
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
	# Licenses a user may wrongly hold, signed with the development key like the example.
	mkdir "$stage/licenses"
	sign() { (cd "$repo" && go run ./cmd/mclicense sign --private-key examples/development-license.key --customer "vm-tests" "$@"); }
	sign --license-id L-VMT-EXPIRED --issued 2020-01-01 --expires 2021-01-01 --out "$stage/licenses/expired.yaml"
	sign --license-id L-VMT-DP --expires 2036-01-01 --modes data-plane --out "$stage/licenses/data-plane-only.yaml"
	sign --license-id L-VMT-ONLINE --expires 2036-01-01 --out "$stage/licenses/no-airgap.yaml"
	sed 's/^  customer: .*/  customer: Someone Else/' "$repo/examples/license.yaml" >"$stage/licenses/edited.yaml"
}

failed=()
# run_suites NAME: run each suite with the environment the suites read; results in out/NAME.
run_suites() {
	local name=$1 results=$out/$1 s status
	rm -rf "$results" && mkdir -p "$results"
	for s in $suites; do
		echo "# $name: suite $s" >&2
		status=0
		MC_ARTIFACTS=$results MC_REPO=$repo BATS_LIB_PATH=${BATS_LIB_PATH:-/usr/lib/bats:/usr/local/lib/bats:/opt/homebrew/lib} \
			bats --formatter tap --report-formatter junit --output "$results" "$here/suites/$s.bats" | tee "$results/$s.tap" || status=$?
		[[ -f $results/report.xml ]] && mv "$results/report.xml" "$results/$s.xml"
		while read -r line; do
			failed+=("$name: suite $s, step \"$line\"")
		done < <(grep -E '^not ok ' "$results/$s.tap" | sed -E 's/^not ok [0-9]+ //; s/ # in [0-9]+ ?ms$//')
		if [[ $status -ne 0 ]] && ! grep -q '^not ok ' "$results/$s.tap"; then
			failed+=("$name: suite $s did not run to the end (bats exit $status)")
		fi
	done
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

stage
export MC_TARGET=$target
case $target in
local)
	[[ $EUID -eq 0 ]] || sudo -n true || die "the local target installs on this machine: run as root or with passwordless sudo"
	[[ ! -e /var/lib/mission-control ]] || die "/var/lib/mission-control exists: this machine has an install; run mission-control reset first"
	export MC_HOSTS=local MC_STAGE=$stage MC_NET_GUARD=1
	run_suites local
	;;
lima | vagrant)
	hosts=(cp-east)
	needs_pair && hosts+=(dp-west)
	# Vagrant's first interface is its NAT: nodes take their address on the private network.
	if [[ $target == vagrant ]]; then export MC_PRIVATE_NET=192.168.56.0/24; fi
	for distro in $distros; do
		export MC_HOSTS="${hosts[*]}" MC_STAGE=/var/tmp/mc-vm-tests MC_SSH_CONFIG=$out/$target-$distro.ssh-config
		# The VMs go however the run ends, unless --keep.
		if [[ $keep == 0 ]]; then trap '"${target}_down" "$distro" "${hosts[@]}"' EXIT; fi
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
echo "vm-tests: every step of every suite passed ($target: $suites)" >&2
