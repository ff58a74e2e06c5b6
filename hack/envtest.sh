#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl for the integration tests from the
# Go module proxy, caches them outside the clone, and prints the directory
# that holds them (use it as KUBEBUILDER_ASSETS).
#
# The cache is keyed by the Kubernetes version and a hash of the pinning
# module and this script, so a second run, or CI's fresh clone on the same
# machine, costs a few milliseconds. A brand-new machine builds once (about
# five minutes on 2 cores). Only the Go module proxy is contacted.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mod="$here/envtest"
k8s_version=v1.37.2

key=$(cat "$mod/go.mod" "$mod/go.sum" "$mod/tools.go" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
cache_root="${GITSEAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gitseal}/envtest"
dir="$cache_root/$k8s_version-$key"

complete() { [ -x "$dir/kube-apiserver" ] && [ -x "$dir/etcd" ] && [ -x "$dir/kubectl" ]; }

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

echo "envtest: building kube-apiserver, etcd and kubectl $k8s_version into $dir (once per machine, about 5 minutes)" >&2
tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=37 -X $pkg.gitTreeState=clean"
(
	cd "$mod"
	export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOWORK=off
	go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
	go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
	go build -trimpath -ldflags "$ldflags" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
) >&2

rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "envtest: done" >&2
echo "$dir"
