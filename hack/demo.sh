#!/usr/bin/env bash
# The whole gitseal story on a local control plane: the controller, running
# as its ServiceAccount with the shipped RBAC, makes its key in the cluster,
# a Secret is sealed on "a laptop", scanned and pushed to Git, a GitSync
# pulls the repository and the controller unseals it, a plaintext Secret
# pushed by mistake is refused while the last good revision stays, a copy
# into another namespace is refused, the key is rotated and the file
# re-sealed without plaintext leaving the cluster (a one-line diff: only
# the wrapped data key changes), and a backup key opens it offline. Run it with `make demo`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
assets=$(hack/envtest.sh)
export KUBEBUILDER_ASSETS=$assets
kubectl=$assets/kubectl
gitseal=$root/bin/gitseal
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { local cmd="$*"; cmd=${cmd//$assets\//}; cmd=${cmd//$root\//}; cmd=${cmd//$work\//}; printf '$ %s\n' "$cmd" >&2; "$@"; }
wait_for() { # what, command...
	local what=$1; shift
	for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	echo "demo: timed out waiting for $what" >&2
	[ -f "$work/controller.log" ] && tail -20 "$work/controller.log" >&2
	exit 1
}

step "Build gitseal and gitseal-controller"
make --no-print-directory build >/dev/null
go -C hack build -o "$work/controlplane" ./controlplane
go -C hack build -o "$work/gitserver" ./gitserver

step "Start a local control plane (kube-apiserver + etcd)"
"$work/controlplane" --kubeconfig "$work/kubeconfig" 2>"$work/controlplane.log" &
pids+=($!)
wait_for "the control plane" test -s "$work/kubeconfig"
export KUBECONFIG=$work/kubeconfig
show "$kubectl" apply -k config/namespace
show "$kubectl" apply -k config/rbac
show "$kubectl" apply -k config/platform
show "$kubectl" create namespace prod
show "$kubectl" create namespace dev

step "Run the controller out of the cluster, as its ServiceAccount; it generates its key in the cluster"
# The controller gets exactly what config/rbac grants, as in the cluster: a
# kubeconfig with a token of its ServiceAccount (re-read from the file, as
# a pod's projected token is). It may not write a ConfigMap itself:
show "$kubectl" auth can-i patch configmaps -n prod --as system:serviceaccount:gitseal-system:gitseal-controller || true
(umask 077 && "$kubectl" -n gitseal-system create token gitseal-controller --duration 2h >"$work/controller.token")
cat >"$work/controller.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: demo
  cluster:
    server: $("$kubectl" config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
    certificate-authority-data: $("$kubectl" config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
users:
- name: gitseal-controller
  user: {tokenFile: $work/controller.token}
contexts:
- name: gitseal-controller
  context: {cluster: demo, user: gitseal-controller}
current-context: gitseal-controller
YAML
show "$kubectl" --kubeconfig "$work/controller.kubeconfig" auth whoami
"$root/bin/gitseal-controller" --kubeconfig "$work/controller.kubeconfig" --namespace gitseal-system \
	--http-bind-address 127.0.0.1:18000 --metrics-bind-address 127.0.0.1:18443 \
	--health-probe-bind-address 127.0.0.1:18081 >"$work/controller.log" 2>&1 &
pids+=($!)
export GITSEAL_URL=http://127.0.0.1:18000
wait_for "the controller" curl -fsS http://127.0.0.1:18081/readyz
wait_for "the first key" "$kubectl" -n gitseal-system get configmap gitseal-keys
show "$kubectl" -n gitseal-system get secrets -l gitseal.dev/sealing-key=true
show "$gitseal" keys fetch

step "Seal a Secret on the laptop: only ciphertext is written"
mkdir -p "$work/repo/apps/prod"
"$kubectl" create secret generic db -n prod --from-literal=password=correct-horse-battery-staple \
	--from-literal=username=app --dry-run=client -o yaml >"$work/db.secret.yaml"
show "$gitseal" seal "$work/db.secret.yaml" >"$work/repo/apps/prod/db.yaml"
cut -c1-100 "$work/repo/apps/prod/db.yaml"

step "gitseal scan: the sealed file passes, the plaintext one is refused"
show "$gitseal" scan "$work/repo"
cp "$work/db.secret.yaml" "$work/repo/apps/prod/oops.yaml"
if "$gitseal" scan "$work/repo"; then echo "demo: scan should have failed" >&2; exit 1; fi
rm "$work/repo/apps/prod/oops.yaml"

step "Push the repository; a GitSync pulls it and the controller writes the Secret"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
git init --quiet --bare --initial-branch=main "$work/git/env.git"
"$work/gitserver" --root "$work/git" --url-file "$work/git.url" --ca-file "$work/git.ca" 2>"$work/gitserver.log" &
pids+=($!)
wait_for "the Git server" test -s "$work/git.url"
"$kubectl" create configmap app -n prod --from-literal=greeting=hello --dry-run=client -o yaml >"$work/repo/apps/prod/app.yaml"
"$kubectl" create configmap banner -n prod --from-literal=text=welcome --dry-run=client -o yaml >"$work/repo/apps/prod/banner.yaml"
push() { # message
	git -C "$work/repo" add -A && git -C "$work/repo" commit --quiet -m "$1" && git -C "$work/repo" push --quiet origin main
	echo "pushed: $1 ($(git -C "$work/repo" rev-parse --short HEAD))"
}
git -C "$work/repo" init --quiet --initial-branch=main
git -C "$work/repo" remote add origin "$work/git/env.git"
push "prod: db password (sealed) and app config"
show "$kubectl" -n gitseal-system create secret generic git --from-file=ca.crt="$work/git.ca"
cat >"$work/gitsync.yaml" <<YAML
apiVersion: gitseal.dev/v1alpha1
kind: GitSync
metadata: {name: prod, namespace: gitseal-system}
spec:
  url: $(cat "$work/git.url")/env.git
  path: apps/prod
  interval: 1m
  secretRef: {name: git}
  serviceAccountName: gitseal-platform   # config/platform; the controller never applies with its own rights
YAML
cat "$work/gitsync.yaml"
show "$kubectl" apply -f "$work/gitsync.yaml"
show "$kubectl" -n gitseal-system wait --for=condition=Ready gitsync/prod --timeout=60s
show "$kubectl" -n gitseal-system get gitsync prod
show "$kubectl" -n prod wait --for=condition=Ready sealedsecret/db --timeout=60s
show "$kubectl" -n prod get sealedsecret db -o wide
printf '$ kubectl -n prod get secret db -o jsonpath={.data.password} | base64 -d\n'
"$kubectl" -n prod get secret db -o jsonpath='{.data.password}' | base64 -d
echo

sync_now() { # the Ready reason the sync must end with
	show "$gitseal" sync prod -n gitseal-system || true # exits 1 when the sync fails
	show "$kubectl" -n gitseal-system get gitsync prod
	"$kubectl" -n gitseal-system get gitsync prod -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}' | grep -qx "$1"
}

step "A plaintext Secret pushed by mistake is refused; the last good revision stays"
cp "$work/db.secret.yaml" "$work/repo/apps/prod/oops.yaml"
push "oops: plaintext Secret (no pre-commit hook here)"
sync_now PolicyDenied
show "$kubectl" -n prod get secret/db configmap/app
git -C "$work/repo" rm --quiet apps/prod/oops.yaml
push "remove the plaintext Secret"
sync_now Succeeded

step "Roll back with git revert: the cluster returns to the state before"
configmaps() { show "$kubectl" -n prod get configmaps -l gitseal.dev/gitsync-name=prod -o custom-columns=NAME:.metadata.name,DATA:.data; }
configmaps
"$kubectl" create configmap app -n prod --from-literal=greeting=bonjour --dry-run=client -o yaml >"$work/repo/apps/prod/app.yaml"
"$kubectl" create configmap feature -n prod --from-literal=enabled=true --dry-run=client -o yaml >"$work/repo/apps/prod/feature.yaml"
git -C "$work/repo" rm --quiet apps/prod/banner.yaml
push "prod: greeting in French, a feature flag, no banner"
sync_now Succeeded
configmaps
git -C "$work/repo" revert --no-edit HEAD >/dev/null
git -C "$work/repo" push --quiet origin main
echo "pushed: git revert HEAD ($(git -C "$work/repo" rev-parse --short HEAD))"
sync_now Succeeded
configmaps

step "The same ciphertext copied into another namespace does not open"
sed 's/namespace: prod/namespace: dev/' "$work/repo/apps/prod/db.yaml" | "$kubectl" apply -f -
wait_for "the copy to be refused" sh -c "'$kubectl' -n dev get sealedsecret db -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}' | grep -q ScopeMismatch"
show "$kubectl" -n dev get sealedsecret db
show "$kubectl" -n dev get secret db 2>&1 || true

step "Rotate the key and re-seal the file; plaintext never leaves the cluster"
cp "$work/repo/apps/prod/db.yaml" "$work/db.before.yaml"
show "$gitseal" keys rotate
show "$gitseal" --controller-url "$GITSEAL_URL" reseal "$work/repo/apps/prod/db.yaml"
show "$gitseal" diff "$work/db.before.yaml" "$work/repo/apps/prod/db.yaml" || true
# Format 2: only the wrapped data key changed; every value is byte for byte
# the same, so the rotation's diff is one line per object.
show git -C "$work/repo" diff --stat
printf '$ git diff -U0 | cut -c1-100\n'
git -C "$work/repo" diff -U0 | cut -c1-100
numstat=$(git -C "$work/repo" diff --numstat)
if [ "$numstat" != "$(printf '1\t1\tapps/prod/db.yaml')" ]; then
	echo "demo: a key rotation should change one line of db.yaml, not: $numstat" >&2
	exit 1
fi
push "re-seal to the new key"
sync_now Succeeded
show "$gitseal" keys list

step "Disaster recovery: back up the keys, open the file offline"
show "$gitseal" keys backup --output-file "$work/keys.backup" 2>&1
printf '$ gitseal unseal --identity keys.backup db.yaml | grep password\n'
"$gitseal" unseal --identity "$work/keys.backup" "$work/repo/apps/prod/db.yaml" | grep password

step "Done"
if grep -i forbidden "$work/controller.log" >&2; then
	echo "demo: the API server refused the controller a request: config/rbac lacks a right" >&2
	exit 1
fi
echo "The controller ran with exactly config/rbac's rights and was refused nothing."
echo "Everything above ran against a real kube-apiserver and etcd on this machine."
