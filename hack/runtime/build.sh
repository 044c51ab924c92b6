#!/usr/bin/env bash
# Builds the embedded runtime's payload: k0s, the Kubernetes binaries, etcd, the node binaries and
# the system images (pause, kube-proxy, CoreDNS), at the versions in runtime/k0s/versions.env.
#
#   RUNTIME_SOURCE=source   (default) build everything from the Go module proxy; node binaries
#                           (containerd, runc, CNI plugins) and iptables come from Debian packages.
#   RUNTIME_SOURCE=release  production: download the official k0s release K0S_RELEASE, whose binary
#                           embeds Kubernetes, etcd, containerd and runc; the images are still built.
#
# Every component is cached under RUNTIME_CACHE by version and build revision, so only the first
# build is slow (about 45 minutes on 2 cores); later ones take seconds. While a component compiles,
# a line a minute says so.
#
# Usage: hack/runtime/build.sh OUT_DIR   -> OUT_DIR/payload.tar.zst and OUT_DIR/payload.json
# (make runtime writes them into runtime/payload, where make build embeds them)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
set -a
# shellcheck source=../../runtime/k0s/versions.env
source "$repo/runtime/k0s/versions.env"
set +a
out=${1:?usage: build.sh OUT_DIR}
cache=${RUNTIME_CACHE:-$HOME/.cache/mission-control/runtime}
source_kind=${RUNTIME_SOURCE:-source}
rev=r$RUNTIME_BUILD_REVISION
export GOFLAGS=-mod=readonly GOTOOLCHAIN=local
mkdir -p "$cache" "$out"

log() { printf '%s runtime: %s\n' "$(date +%T)" "$*" >&2; }

# The build host's inputs: a C compiler for k0s, and the Debian packages whose binaries the payload
# and the kube-proxy image carry.
missing=()
for f in gcc dpkg-query ldd /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/sbin/runc \
	/usr/lib/cni/bridge /usr/sbin/xtables-nft-multi /usr/sbin/conntrack /usr/sbin/ipset; do
	if [[ $f == /* ]]; then [ -x "$f" ] || missing+=("$f"); else command -v "$f" >/dev/null || missing+=("$f"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
	log "missing ${missing[*]}: apt-get install gcc libc6-dev containerd runc containernetworking-plugins iptables conntrack ipset"
	exit 1
fi

# component NAME KEY FUNCTION: prints the cache directory of NAME at KEY, running FUNCTION DIR to
# fill it when it is not cached yet. A failed build leaves only a .tmp directory behind.
component() {
	local dir="$cache/$1-$2"
	if [ -d "$dir" ]; then
		log "$1 $2: cached"
	else
		log "$1 $2: building (output in $dir.log)"
		local start=$SECONDS
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		# A compiler prints nothing for minutes: a line a minute says the build is alive.
		"$3" "$dir.tmp" >"$dir.log" 2>&1 &
		local pid=$! said=$SECONDS status=0
		while kill -0 "$pid" 2>/dev/null; do
			sleep 2
			if ((SECONDS - said >= 60)); then
				log "$1: still building ($((SECONDS - start))s so far)"
				said=$SECONDS
			fi
		done
		wait "$pid" || status=$?
		if [ "$status" -ne 0 ]; then
			log "$1: build failed (exit $status); last lines of $dir.log:"
			tail -20 "$dir.log" >&2
			exit 1
		fi
		mv "$dir.tmp" "$dir"
		log "$1: built in $((SECONDS - start))s"
	fi
	echo "$dir"
}

k8s_ldflags() {
	local minor
	minor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")
	local ld="-s -w"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
		ld+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	echo "$ld"
}

build_k8s() {
	cd "$repo/hack/runtime/k8s"
	CGO_ENABLED=0 go build -trimpath -tags providerless -ldflags "$(k8s_ldflags)" -o "$1/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
}

build_k0s() {
	cd "$repo/hack/runtime/k0s"
	local b=github.com/k0sproject/k0s/pkg/build
	local ld="-s -w -X $b.Version=${K0S_RELEASE%%+*}-mission-control+k0s -X $b.KubernetesVersion=${KUBERNETES_VERSION#v}"
	ld+=" -X $b.EtcdVersion=${ETCD_VERSION#v} $(k8s_ldflags)"
	# CGO: k0s' backup code links sqlite. noembedbins: the binaries come from the payload instead.
	CGO_ENABLED=1 go build -trimpath -tags noembedbins,osusergo -ldflags "$ld" -o "$1/k0s" github.com/k0sproject/k0s
}

download_k0s_release() {
	local url="https://github.com/k0sproject/k0s/releases/download/$K0S_RELEASE/k0s-$K0S_RELEASE-amd64"
	curl -fsSL --retry 3 -o "$1/k0s" "$url"
	chmod 0755 "$1/k0s"
}

build_etcd() {
	cd "$repo/hack/runtime/etcd"
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$1/etcd" go.etcd.io/etcd/server/v3
}

build_coredns() {
	cd "$repo/hack/runtime/coredns"
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$1/coredns" .
}

debian_version() { dpkg-query -W -f '${Version}' "$1"; }

# Node binaries k0s runs on the host. A release k0s carries its own containerd and runc.
copy_node_binaries() {
	mkdir -p "$1/bin" "$1/cni"
	if [ "$source_kind" = source ]; then
		cp /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/sbin/runc "$1/bin/"
	fi
	cp /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback /usr/lib/cni/portmap "$1/cni/"
}

# files_with_libs FILE...: DEST=SRC image entries for the files and every shared library they load.
files_with_libs() {
	local f lib
	for f in "$@"; do
		echo "$f=$(readlink -f "$f")"
		ldd "$f" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do
			echo "$lib=$(readlink -f "$lib")"
		done
	done | sort -u
}

# check_libs DEST=SRC...: fail unless every library any of an image's entries loads is among them
# (an image without one fails only when its program first loads it).
check_libs() {
	local entry lib dests=" "
	for entry in "$@"; do dests+="${entry%%[=@]*} "; done
	for entry in "$@"; do
		[[ $entry == *=* ]] || continue
		while read -r lib; do
			if [[ $dests != *" $lib "* ]]; then
				echo "build.sh: ${entry%%=*} loads $lib, which its image lacks" >&2
				return 1
			fi
		done < <(ldd "${entry#*=}" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}')
	done
}

imagebuild="$cache/imagebuild-$rev"
(cd "$repo" && CGO_ENABLED=0 go build -o "$imagebuild" ./hack/imagebuild)
src_label="org.opencontainers.image.source=https://github.com/datastax/mission-control"

build_images() {
	local dir=$1 src=$src_label
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/.pause" ./hack/runtime/pause)
	"$imagebuild" -name "localhost/mission-control/pause:$PAUSE_VERSION" -out "$dir/pause.tar" \
		-entrypoint /pause -label "$src" -label "org.opencontainers.image.version=$PAUSE_VERSION" "/pause=$dir/.pause"
	"$imagebuild" -name "localhost/mission-control/coredns:$COREDNS_VERSION" -out "$dir/coredns.tar" \
		-entrypoint /coredns -label "$src" -label "org.opencontainers.image.version=$COREDNS_VERSION" \
		"/coredns=$coredns_dir/coredns"
	# kube-proxy programs iptables (nft backend, as k0s is told to use) and cleans conntrack entries.
	# The extensions load libraries of their own (statistic, which balances a Service over several
	# endpoints, needs libm).
	local entries=() x
	mapfile -t entries < <(files_with_libs /usr/sbin/xtables-nft-multi /usr/sbin/conntrack /usr/lib/x86_64-linux-gnu/xtables/*.so)
	for x in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		entries+=("/usr/sbin/$x@xtables-nft-multi")
	done
	check_libs "${entries[@]}" || return
	"$imagebuild" -name "localhost/mission-control/kube-proxy:$KUBERNETES_VERSION" -out "$dir/kube-proxy.tar" \
		-entrypoint /usr/local/bin/kube-proxy -label "$src" -label "org.opencontainers.image.version=$KUBERNETES_VERSION" \
		"/usr/local/bin/kube-proxy=$k8s_dir/kube-proxy" "${entries[@]}"
	rm -f "$dir/.pause"
}

# nonroot_files are what an operator image carries besides its binary: CA certificates and a
# passwd entry for the user it runs as.
nonroot_files() {
	local dir=$1
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$dir/.passwd"
	printf 'root:x:0:\nnonroot:x:65532:\n' >"$dir/.group"
	echo "/etc/ssl/certs/ca-certificates.crt=/etc/ssl/certs/ca-certificates.crt" "/etc/passwd=$dir/.passwd" "/etc/group=$dir/.group"
}

# operator_image NAME TAG BINARY OUT: a non-root image running BINARY as /manager.
operator_image() {
	local files
	read -ra files <<<"$(nonroot_files "$(dirname "$4")")"
	"$imagebuild" -name "localhost/mission-control/$1:$2" -out "$4" -entrypoint /manager -user 65532:65532 \
		-label "$src_label" -label "org.opencontainers.image.title=$1" -label "org.opencontainers.image.version=$2" \
		"/manager=$3" "${files[@]}"
	rm -f "$(dirname "$4")/.passwd" "$(dirname "$4")/.group"
}

# The upstream operators, built from their modules at the versions versions.env pins.
build_operators() {
	local dir=$1
	(cd "$repo/hack/operators/cass" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/.cass-operator" github.com/k8ssandra/cass-operator/cmd)
	(cd "$repo/hack/operators/k8ssandra" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X main.version=$K8SSANDRA_OPERATOR_VERSION" -o "$dir/.k8ssandra-operator" github.com/k8ssandra/k8ssandra-operator)
	operator_image cass-operator "$CASS_OPERATOR_VERSION" "$dir/.cass-operator" "$dir/cass-operator.tar"
	operator_image k8ssandra-operator "$K8SSANDRA_OPERATOR_VERSION" "$dir/.k8ssandra-operator" "$dir/k8ssandra-operator.tar"
	rm -f "$dir/.cass-operator" "$dir/.k8ssandra-operator"
}

# The volume provisioner, built from its module at the version versions.env pins.
build_storage() {
	local dir=$1
	(cd "$repo/hack/storage" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.VERSION=$LOCAL_PATH_PROVISIONER_VERSION" \
		-o "$dir/.local-path-provisioner" github.com/rancher/local-path-provisioner)
	operator_image local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" "$dir/.local-path-provisioner" "$dir/local-path-provisioner.tar"
	rm -f "$dir/.local-path-provisioner"
}

# The pod network, built from its module at the version versions.env pins: kube-router routes
# the nodes' pod ranges to each other (BGP between nodes) and enforces NetworkPolicy with iptables
# and ipsets; it also runs ip (policy routes) and conntrack. kube-proxy keeps the Services.
build_network() {
	local dir=$1 entries=() x
	(cd "$repo/hack/network" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION -X github.com/cloudnativelabs/kube-router/v2/pkg/version.BuildDate=1970-01-01T00:00:00Z" \
		-o "$dir/.kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router)
	mapfile -t entries < <(files_with_libs /usr/sbin/xtables-nft-multi /usr/sbin/conntrack /usr/sbin/ipset "$(readlink -f "$(command -v ip)")" \
		/usr/lib/x86_64-linux-gnu/xtables/*.so)
	for x in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		entries+=("/usr/sbin/$x@xtables-nft-multi")
	done
	# The routing tables' names, to which kube-router adds its own (policy routing for overlays).
	printf '255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n' >"$dir/.rt_tables"
	entries+=("/etc/iproute2/rt_tables=$dir/.rt_tables")
	check_libs "${entries[@]}" || return
	"$imagebuild" -name "localhost/mission-control/kube-router:$KUBE_ROUTER_VERSION" -out "$dir/kube-router.tar" \
		-entrypoint /usr/local/bin/kube-router -env PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -label "$src_label" \
		-label "org.opencontainers.image.title=kube-router" -label "org.opencontainers.image.version=$KUBE_ROUTER_VERSION" \
		"/usr/local/bin/kube-router=$dir/.kube-router" "${entries[@]}"
	rm -f "$dir/.kube-router" "$dir/.rt_tables"
}

case "$source_kind" in
source)
	k8s_dir=$(component k8s "$KUBERNETES_VERSION-$rev" build_k8s)
	k0s_dir=$(component k0s "$K0S_VERSION-$rev" build_k0s)
	etcd_dir=$(component etcd "$ETCD_VERSION-$rev" build_etcd)
	;;
release)
	k8s_dir=$(component k8s "$KUBERNETES_VERSION-$rev" build_k8s) # kube-proxy for its image only
	k0s_dir=$(component k0s-release "$K0S_RELEASE" download_k0s_release)
	;;
*)
	log "RUNTIME_SOURCE must be source or release, not $source_kind"
	exit 1
	;;
esac
coredns_dir=$(component coredns "$COREDNS_VERSION-$rev" build_coredns)
node_key="containerd-$(debian_version containerd)-runc-$(debian_version runc)-cni-$(debian_version containernetworking-plugins)-$source_kind"
node_dir=$(component node "${node_key//[^A-Za-z0-9._-]/_}-$rev" copy_node_binaries)
# The images' and the network's keys hash the functions that assemble them: a change to what
# goes into an image rebuilds that image only.
images_key="k8s-$KUBERNETES_VERSION-coredns-$COREDNS_VERSION-pause-$PAUSE_VERSION-$(declare -f build_images files_with_libs | sha256sum | cut -c1-12)-iptables-$(debian_version iptables)"
images_dir=$(component images "${images_key//[^A-Za-z0-9._-]/_}-$rev" build_images)
operators_dir=$(component operators "cass-$CASS_OPERATOR_VERSION-k8ssandra-$K8SSANDRA_OPERATOR_VERSION-$rev" build_operators)
storage_dir=$(component storage "local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION-$rev" build_storage)
# Keyed by what goes into the image, this function's text included.
network_key="kube-router-$KUBE_ROUTER_VERSION-$(cat "$repo/hack/network/go.sum" <(declare -f build_network files_with_libs) | sha256sum | cut -c1-12)-iptables-$(debian_version iptables)-ipset-$(debian_version ipset)"
network_dir=$(component network "${network_key//[^A-Za-z0-9._-]/_}-$rev" build_network)

# mission-control-operator is this repository's code: built every time, tagged by its content.
mco_dir=$(mktemp -d)
trap 'rm -rf "$mco_dir"' EXIT
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$mco_dir/.manager" ./cmd/mission-control-operator)
mco_tag="sha-$(sha256sum "$mco_dir/.manager" | cut -c1-12)"
operator_image mission-control-operator "$mco_tag" "$mco_dir/.manager" "$mco_dir/mission-control-operator.tar"
log "mission-control-operator: built $mco_tag"
# The provisioner's helper runs as root in the volume's pod (it makes directories on the node):
# one static binary, no shell.
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$mco_dir/.volume-helper" ./cmd/volume-helper)
helper_tag="sha-$(sha256sum "$mco_dir/.volume-helper" | cut -c1-12)"
"$imagebuild" -name "localhost/mission-control/volume-helper:$helper_tag" -out "$mco_dir/volume-helper.tar" -entrypoint /volume-helper \
	-label "$src_label" -label "org.opencontainers.image.title=volume-helper" -label "org.opencontainers.image.version=$helper_tag" \
	"/volume-helper=$mco_dir/.volume-helper"
log "volume-helper: built $helper_tag"
# The Mission Control API and web UI (control planes): one static binary, the UI's files embedded.
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$mco_dir/.mission-control-api" ./cmd/mission-control-api)
api_tag="sha-$(sha256sum "$mco_dir/.mission-control-api" | cut -c1-12)"
"$imagebuild" -name "localhost/mission-control/mission-control-api:$api_tag" -out "$mco_dir/mission-control-api.tar" -entrypoint /mission-control-api \
	-user 65532 -label "$src_label" -label "org.opencontainers.image.title=mission-control-api" -label "org.opencontainers.image.version=$api_tag" \
	"/mission-control-api=$mco_dir/.mission-control-api"
log "mission-control-api: built $api_tag"
# The pod network's peering agent keeps traffic to registered clusters' pods out of kube-router's
# masquerade with iptables (nft, as kube-router's) and withdraws routes with ip: its binary, and
# those with their libraries.
build_peering() {
	local dir=$1 entries=() x
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/.pod-network-peering" ./cmd/pod-network-peering)
	mapfile -t entries < <(files_with_libs /usr/sbin/xtables-nft-multi "$(readlink -f "$(command -v ip)")" /usr/lib/x86_64-linux-gnu/xtables/*.so)
	for x in iptables iptables-save iptables-restore; do
		entries+=("/usr/sbin/$x@xtables-nft-multi")
	done
	check_libs "${entries[@]}" || return
	peering_tag="sha-$(cat "$dir/.pod-network-peering" <(printf '%s\n' "${entries[@]}") <(debian_version iptables) | sha256sum | cut -c1-12)"
	"$imagebuild" -name "localhost/mission-control/pod-network-peering:$peering_tag" -out "$dir/pod-network-peering.tar" \
		-entrypoint /usr/local/bin/pod-network-peering -env PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -label "$src_label" \
		-label "org.opencontainers.image.title=pod-network-peering" -label "org.opencontainers.image.version=$peering_tag" \
		"/usr/local/bin/pod-network-peering=$dir/.pod-network-peering" "${entries[@]}"
	rm -f "$dir/.pod-network-peering"
}
build_peering "$mco_dir"
log "pod-network-peering: built $peering_tag"

# The payload: the cached components packed reproducibly with a manifest, cached in turn.
pack_payload() {
	local stage="$1/stage"
	mkdir -p "$stage/bin" "$stage/cni" "$stage/images"
	ln -s "$k0s_dir/k0s" "$stage/bin/"
	if [ "$source_kind" = source ]; then
		for b in kube-apiserver kube-controller-manager kube-scheduler kubelet; do ln -s "$k8s_dir/$b" "$stage/bin/"; done
		ln -s "$etcd_dir/etcd" "$stage/bin/"
		for b in "$node_dir"/bin/*; do ln -s "$b" "$stage/bin/"; done
	fi
	for b in "$node_dir"/cni/*; do ln -s "$b" "$stage/cni/"; done
	for i in "$images_dir"/*.tar "$operators_dir"/*.tar "$storage_dir"/*.tar "$network_dir"/*.tar "$mco_dir"/*.tar; do ln -s "$i" "$stage/images/"; done
	(cd "$repo" && go run ./hack/payload -dir "$stage" -out "$1/payload.tar.zst" -manifest "$1/payload.json" -source "$source_kind" \
		-image "cass-operator=localhost/mission-control/cass-operator:$CASS_OPERATOR_VERSION" \
		-image "k8ssandra-operator=localhost/mission-control/k8ssandra-operator:$K8SSANDRA_OPERATOR_VERSION" \
		-image "mission-control-operator=localhost/mission-control/mission-control-operator:$mco_tag" \
		-image "local-path-provisioner=localhost/mission-control/local-path-provisioner:$LOCAL_PATH_PROVISIONER_VERSION" \
		-image "volume-helper=localhost/mission-control/volume-helper:$helper_tag" \
		-image "mission-control-api=localhost/mission-control/mission-control-api:$api_tag" \
		-image "kube-router=localhost/mission-control/kube-router:$KUBE_ROUTER_VERSION" \
		-image "pod-network-peering=localhost/mission-control/pod-network-peering:$peering_tag")
	rm -rf "$stage"
}
inputs="$k0s_dir ${k8s_dir:-} ${etcd_dir:-} $node_dir $images_dir $operators_dir $storage_dir $network_dir $mco_tag $helper_tag $api_tag $peering_tag $(sha256sum "$repo/runtime/payload/payload.go" "$repo/hack/payload/main.go" "$repo/runtime/k0s/versions.env" | cut -c1-64)"
payload_dir=$(component payload "$(sha256sum <<<"$inputs" | cut -c1-16)" pack_payload)
cp "$payload_dir/payload.tar.zst" "$payload_dir/payload.json" "$out/"
log "payload: $(du -h "$out/payload.tar.zst" | cut -f1) compressed, in $out"
