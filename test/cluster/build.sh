#!/usr/bin/env bash
# build.sh builds the test control plane's binaries from Go modules into a versioned cache
# outside the repository: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
# etcd, kwok and helm. Already built binaries are skipped, so a second run takes seconds.
#
# Usage: test/cluster/build.sh            build what is missing, print progress
#        test/cluster/build.sh --bin-dir  print the binary directory and exit (no build)
#
# Environment: TRADEPIPE_CACHE (default ~/.cache/tradepipe), K8S_VERSION, ETCD_VERSION,
# KWOK_VERSION, HELM_VERSION, BUILD_PARALLELISM (go build -p, default: number of CPUs).
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"
HELM_VERSION="${HELM_VERSION:-v4.3.1}"

CACHE_ROOT="${TRADEPIPE_CACHE:-$HOME/.cache/tradepipe}"
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
ROOT="$CACHE_ROOT/k8s/$KEY"
BIN="$ROOT/bin"
WORK="$ROOT/work"
LOGS="$ROOT/logs"

if [[ "${1:-}" == "--bin-dir" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$BIN" "$WORK" "$LOGS"
TOTAL=0

# One build at a time per cache: parallel test files may all find the cache empty.
exec 9>"$ROOT/.lock"
if ! flock -n 9; then
  echo "[cluster:build] another build holds $ROOT/.lock; waiting for it"
  flock 9
fi

START=$(date +%s)
elapsed() { echo "$(($(date +%s) - START))s"; }
say() { echo "[cluster:build +$(elapsed)] $*"; }

command -v go >/dev/null || { echo "[cluster:build] go is not on PATH" >&2; exit 1; }
say "go: $(go version); cache: $ROOT"

# Keep the machine's own GOFLAGS (e.g. -buildvcs=false) but always resolve missing go.sum lines.
export GOFLAGS="${GOFLAGS:-} -mod=mod"
# auto: a machine whose Go is older than a module needs fetches that toolchain from the module proxy.
export GOTOOLCHAIN="${GOTOOLCHAIN_FOR_CLUSTER_BUILD:-auto}"
export CGO_ENABLED=0
PARALLELISM="${BUILD_PARALLELISM:-$(nproc)}"
GO_BUILD=(go build -trimpath -p "$PARALLELISM")

have_all() {
  local name
  for name in "$@"; do [[ -x "$BIN/$name" ]] || return 1; done
}

# watch_build LOG LABEL PID: prints a progress line every 30 s while a `go build -v` runs.
watch_build() {
  local log="$1" label="$2" pid="$3"
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null || break
    say "  $label: $(grep -vc '^#\|^go: ' "$log" 2>/dev/null || echo 0) of at most $TOTAL packages compiled"
  done
}

# run_build LABEL LOG -- CMD...: runs a build in the background with a progress ticker.
run_build() {
  local label="$1" log="$2"
  shift 3
  "$@" >"$log" 2>&1 &
  local pid=$!
  watch_build "$log" "$label" "$pid" &
  local watcher=$!
  local rc=0
  wait "$pid" || rc=$?
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then
    echo "[cluster:build] $label failed (exit $rc); last lines of $log:" >&2
    tail -n 40 "$log" >&2
    exit "$rc"
  fi
}

# resolve LABEL LOG -- CMD...: runs module resolution quietly (its chatter goes to LOG).
resolve() {
  local label="$1" log="$2"
  shift 3
  if ! "$@" >>"$log" 2>&1; then
    echo "[cluster:build] $label: resolving modules failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

# count_packages DIR PACKAGES...: how many packages a build compiles when nothing is cached.
count_packages() {
  local dir="$1"
  shift
  (cd "$dir" && go list -deps "$@" | wc -l)
}

# record NAME SECONDS: appends a timing line that the README's figures come from.
record() { echo "$(date -u +%FT%TZ) $1 ${2}s cold" >>"$ROOT/build-times.txt"; }

# install_from DIR NAMES...: moves freshly built binaries into the cache atomically.
install_from() {
  local dir="$1" name
  shift
  for name in "$@"; do mv -f "$dir/$name" "$BIN/$name"; done
}

build_etcd() {
  if have_all etcd; then say "etcd $ETCD_VERSION: cached"; return; fi
  say "etcd $ETCD_VERSION: building"
  local t0 mod="$WORK/etcd"
  t0=$(date +%s)
  mkdir -p "$mod/out"
  printf 'module tradepipe.local/build/etcd\n\ngo 1.24\n' >"$mod/go.mod"
  resolve etcd "$LOGS/etcd-modules.log" -- bash -c "cd '$mod' && go get 'go.etcd.io/etcd/server/v3@$ETCD_VERSION'"
  TOTAL=$(count_packages "$mod" go.etcd.io/etcd/server/v3)
  run_build "etcd" "$LOGS/etcd.log" -- bash -c "cd '$mod' && ${GO_BUILD[*]} -v \
    -ldflags '-s -w' -o out/etcd go.etcd.io/etcd/server/v3"
  install_from "$mod/out" etcd
  record etcd $(($(date +%s) - t0))
  say "etcd: built in $(($(date +%s) - t0))s"
}

# write_kubernetes_module writes a wrapper module whose go.mod takes k8s.io/kubernetes's own
# requirements and replaces each staging module (./staging/src/...) with its published version.
write_kubernetes_module() {
  local mod="$1" upstream staging
  upstream=$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
  [[ -f "$upstream" ]] || { echo "[cluster:build] cannot find go.mod of k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
  staging="v0.${K8S_VERSION#v1.}"
  {
    echo "module tradepipe.local/build/kubernetes"
    echo
    sed -n 's/^\(go\|godebug\) .*/&/p' "$upstream"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    # Upstream's require blocks, so every third-party dependency is at the version it was tested with.
    awk '/^require \($/{on=1; print; next} on{print} on&&/^\)$/{on=0; print ""}' "$upstream"
    echo "replace ("
    sed -n 's#^\s*\(k8s\.io/[a-z0-9.-]*\) => \./staging/.*#\t\1 => \1 '"$staging"'#p' "$upstream"
    echo ")"
  } >"$mod/go.mod"
  echo "$(grep -c " => k8s.io/" "$mod/go.mod")"
}

build_kubernetes() {
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  if have_all "${cmds[@]}"; then say "kubernetes $K8S_VERSION: cached"; return; fi
  say "kubernetes $K8S_VERSION: writing the wrapper module"
  local t0 mod="$WORK/kubernetes" replaced major minor pkgs=() c
  t0=$(date +%s)
  mkdir -p "$mod/out"
  printf 'module tradepipe.local/build/kubernetes\n\ngo 1.26\n' >"$mod/go.mod"
  replaced=$(write_kubernetes_module "$mod")
  say "kubernetes: $replaced staging modules replaced by their published versions; downloading"
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  resolve kubernetes "$LOGS/kubernetes-modules.log" -- bash -c \
    "cd '$mod' && go mod download k8s.io/kubernetes && go list -deps ${pkgs[*]} >/dev/null"
  TOTAL=$(count_packages "$mod" "${pkgs[@]}")
  say "kubernetes: modules downloaded; compiling ${cmds[*]} ($TOTAL packages) in one go build"
  major="${K8S_VERSION#v}"; major="${major%%.*}"
  minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%FT%TZ)"
  done
  run_build "kubernetes" "$LOGS/kubernetes.log" -- bash -c "cd '$mod' && ${GO_BUILD[*]} -v \
    -ldflags '$ld' -o out/ ${pkgs[*]}"
  install_from "$mod/out" "${cmds[@]}"
  record "kubernetes(${cmds[*]})" $(($(date +%s) - t0))
  say "kubernetes: built in $(($(date +%s) - t0))s"
}

# build_plain NAME MODULE VERSION PACKAGE LDFLAGS: a module without replace directives, built
# through a wrapper module so the same build flags and cache apply as everywhere else.
build_plain() {
  local name="$1" module="$2" version="$3" pkg="$4" ld="$5"
  if have_all "$name"; then say "$name $version: cached"; return; fi
  say "$name $version: building"
  local t0 mod="$WORK/$name"
  t0=$(date +%s)
  mkdir -p "$mod/out"
  printf 'module tradepipe.local/build/%s\n\ngo 1.24\n' "$name" >"$mod/go.mod"
  resolve "$name" "$LOGS/$name-modules.log" -- bash -c "cd '$mod' && go get '$module@$version'"
  TOTAL=$(count_packages "$mod" "$pkg")
  run_build "$name" "$LOGS/$name.log" -- bash -c "cd '$mod' && ${GO_BUILD[*]} -v \
    -ldflags '$ld' -o out/$name $pkg"
  install_from "$mod/out" "$name"
  record "$name" $(($(date +%s) - t0))
  say "$name: built in $(($(date +%s) - t0))s"
}

build_etcd
build_kubernetes
build_plain kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok \
  "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
build_plain helm helm.sh/helm/v4 "$HELM_VERSION" helm.sh/helm/v4/cmd/helm \
  "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.metadata="

say "done; binaries in $BIN"
echo "$BIN"
