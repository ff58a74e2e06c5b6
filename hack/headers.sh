#!/usr/bin/env bash
# Checks, or with --fix adds, the license header (hack/boilerplate.go.txt) at
# the top of every Go file tracked in git. A file may start with build
# constraints before it, as controller-gen writes them.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=false
[[ "${1:-}" == --fix ]] && fix=true

header=hack/boilerplate.go.txt
lines=$(wc -l <"$header")
missing=()
while IFS= read -r f; do
	# Skip leading build constraints and blank lines, then compare.
	start=$(awk '!/^\/\/go:build/ && !/^$/ {print NR; exit}' "$f")
	start=${start:-1}
	if ! sed -n "${start},$((start + lines - 1))p" "$f" | cmp -s - "$header"; then
		missing+=("$f")
	fi
done < <(git ls-files -- '*.go' ':!:**/testdata/**')

if ((${#missing[@]} == 0)); then
	exit 0
fi
if ! $fix; then
	echo "headers: ${#missing[@]} Go files lack the license header of $header; run 'hack/headers.sh --fix':" >&2
	printf '  %s\n' "${missing[@]}" >&2
	exit 1
fi
for f in "${missing[@]}"; do
	# Build constraints must stay before any block comment, or Go ignores them.
	start=$(awk '!/^\/\/go:build/ && !/^$/ {print NR; exit}' "$f")
	{
		head -n $((${start:-1} - 1)) "$f"
		cat "$header"
		echo
		tail -n +"${start:-1}" "$f"
	} >"$f.tmp" && mv "$f.tmp" "$f"
done
echo "headers: added to ${#missing[@]} files"
