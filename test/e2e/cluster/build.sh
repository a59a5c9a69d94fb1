#!/usr/bin/env bash
# Build the five programs of the e2e control plane from the Go module proxy:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok.
#
#   bash test/e2e/cluster/build.sh        # prints the bin dir on stdout (progress on stderr)
#
# Versions are pinned by the three tool modules beside this script (go.mod + go.sum, built
# with -mod=readonly so a missing or changed checksum fails instead of resolving anew).
# The binaries go to ${XDG_CACHE_HOME:-$HOME/.cache}/k8s-executor-e2e/<hash>/bin, where
# <hash> covers the tool modules, this script and the Go version: a second run with the
# same inputs finds them there and builds nothing.
#
# Exit codes: 0 ok, 3 Go is missing or too old (run.sh reports that), other = build failed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed (need Go >= 1.26 and the Go module proxy); cannot build the e2e control plane" >&2
  exit 3
fi
GO_VERSION=$(go env GOVERSION)
if ! printf '%s\n' "go1.26" "$GO_VERSION" | sort -V -C; then
  echo "build.sh: $GO_VERSION is too old: k8s.io/kubernetes v1.36 needs Go >= 1.26" >&2
  exit 3
fi

KEY=$( { cat "$HERE"/{k8s,etcd,kwok}/go.{mod,sum} "$HERE/build.sh"; echo "$GO_VERSION $(go env GOOS GOARCH)"; } | sha256sum | cut -c1-16)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/k8s-executor-e2e/$KEY
BIN=$CACHE/bin
PROGRAMS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# The stamp is written last, so an interrupted build never counts as complete.
if [ -f "$BIN/.complete" ]; then
  echo "build.sh: cached binaries for $KEY in $BIN (0 s)" >&2
  echo "$BIN"
  exit 0
fi

started=$(date +%s)
mkdir -p "$CACHE"
STAGE=$(mktemp -d "$CACHE/bin.partial.XXXXXX")
chmod 755 "$STAGE"
trap 'rm -rf "$STAGE"' EXIT

# Reproducible: no VCS stamping, no paths, no cgo, go.sum must already hold every checksum.
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
# Leave the machine usable for everyone else: lowest CPU and IO priority.
LOW=(nice -n 19)
command -v ionice >/dev/null 2>&1 && LOW+=(ionice -c3)

module_field() { # dir module field -> that field of `go list -m` (Version, Time, …)
  (cd "$1" && go list -m -f "{{.$3}}" "$2")
}

build_k8s() {
  local dir=$HERE/k8s version minor when ld p
  version=$(module_field "$dir" k8s.io/kubernetes Version)
  minor=$(echo "$version" | cut -d. -f2)
  # The tag's own time, not "now", so two builds of the same version are identical.
  when=$(cd "$dir" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
  ld="-s -w"
  # The variables hack/lib/version.sh sets in upstream builds; without them /version says v0.0.0-master.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$when"
  done
  echo "build.sh: building kube-apiserver, kube-controller-manager, kube-scheduler $version" >&2
  (cd "$dir" && "${LOW[@]}" go build -trimpath -ldflags "$ld" -o "$STAGE/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler)
}

build_one() { # dir module package output (etcd and kwok compile their version strings in)
  echo "build.sh: building $4 $(module_field "$1" "$2" Version)" >&2
  (cd "$1" && "${LOW[@]}" go build -trimpath -ldflags "-s -w" -o "$STAGE/$4" "$3")
}

t=$(date +%s); build_k8s; echo "build.sh: kubernetes took $(($(date +%s) - t)) s" >&2
t=$(date +%s); build_one "$HERE/etcd" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3 etcd; echo "build.sh: etcd took $(($(date +%s) - t)) s" >&2
t=$(date +%s); build_one "$HERE/kwok" sigs.k8s.io/kwok sigs.k8s.io/kwok/cmd/kwok kwok; echo "build.sh: kwok took $(($(date +%s) - t)) s" >&2

for p in "${PROGRAMS[@]}"; do
  [ -x "$STAGE/$p" ] || { echo "build.sh: $p was not produced" >&2; exit 1; }
done
rm -rf "$BIN"
mv "$STAGE" "$BIN"
touch "$BIN/.complete"
echo "build.sh: built ${PROGRAMS[*]} into $BIN in $(($(date +%s) - started)) s" >&2
echo "$BIN"
