#!/usr/bin/env bash
# Builds kubelet, kube-controller-manager, kube-scheduler and kube-proxy for
# the single-node test cluster (hack/cluster) from the same pinning module as
# hack/envtest.sh, caches them outside the clone, and prints their directory.
#
# The cache is keyed like envtest.sh's: the Kubernetes version and a hash of
# the pinning module and this script. A brand-new machine builds once (about
# 25 minutes on 2 quiet cores, at nice 19 so that it yields to other work);
# after that a call costs a few milliseconds. Only the Go module proxy is
# contacted.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mod="$here/envtest"
k8s_version=v1.37.2
binaries=(kubelet kube-controller-manager kube-scheduler kube-proxy)

key=$(cat "$mod/go.mod" "$mod/go.sum" "$mod/tools.go" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
cache_root="${GITSEAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gitseal}/node"
dir="$cache_root/$k8s_version-$key"

complete() {
	local b
	for b in "${binaries[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if complete; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
if complete; then # another build finished while we waited
	echo "$dir"
	exit 0
fi

echo "node-binaries: building ${binaries[*]} $k8s_version into $dir (once per machine, 25 minutes or more)" >&2
tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=37 -X $pkg.gitTreeState=clean"
pkgs=()
for b in "${binaries[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
start=$SECONDS
(
	cd "$mod"
	export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOWORK=off
	nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}"
) >&2

rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "node-binaries: done in $((SECONDS - start)) s" >&2
echo "$dir"
