#!/usr/bin/env bash
# hack/standin-images.sh OUTDIR: the Cassandra stand-ins' images (e2e/standin), test doubles of
# the database images that cannot be had here, as OCI tarballs in OUTDIR, under the exact
# references cass-operator v1.30.0 computes for serverVersion 4.0.11 from the chart's image
# config (charts/mission-control/values.yaml databaseImages), so the docs' manifests apply
# unchanged. Cached by their sources' digest in ~/.cache/mission-control/standin-*. Never part of
# the payload, a bundle or the product chart: only tests copy them onto a node.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: hack/standin-images.sh OUTDIR}
cache=${STANDIN_CACHE:-$HOME/.cache/mission-control}
log() { printf '%s standin: %s\n' "$(date +%T)" "$*" >&2; }

# name reference entrypoint: what each image stands in for.
images=(
	"cassandra-standin docker.io/k8ssandra/cass-management-api:4.0.11-ubi /cassandra-standin"
	"system-logger-standin docker.io/k8ssandra/system-logger:v1.30.0 /system-logger-standin"
	"config-builder-standin docker.io/datastax/cass-config-builder:1.0-ubi /config-builder-standin"
)
# Keyed by the contents of every source file (the working tree's, edits included).
digest=$(cd "$repo" && find e2e/standin hack/imagebuild hack/standin-images.sh -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
dir=$cache/standin-$digest
if [ -d "$dir" ]; then
	log "images $digest: cached"
else
	log "images $digest: building"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	for entry in "${images[@]}"; do
		read -r name ref entrypoint <<<"$entry"
		(cd "$repo/e2e/standin" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir.tmp/.$name" "./cmd/$name")
		(cd "$repo" && go run ./hack/imagebuild -name "$ref" -out "$dir.tmp/$name.tar" -entrypoint "$entrypoint" \
			-label "org.opencontainers.image.title=$name" \
			-label "org.opencontainers.image.description=TEST DOUBLE of $ref built from mission-control's e2e/standin: not Cassandra" \
			-label "org.opencontainers.image.source=https://github.com/datastax/mission-control" \
			"$entrypoint=$dir.tmp/.$name")
		rm -f "$dir.tmp/.$name"
		log "$name: $ref"
	done
	mv "$dir.tmp" "$dir"
fi
mkdir -p "$out"
cp "$dir"/*.tar "$out/"
