#!/usr/bin/env bash
# install.sh: installs a tradepipe pipeline on a systemd host (see README.md).
#
#   sudo native-deploy/install.sh -f pipeline.yaml [--prefix /opt/tradepipe] [--host-cpus N]
#
# Creates the `tradepipe` system user and the config directory, copies tradepipe to the prefix
# (with its pinned Node.js), renders the units from the spec, and enables and starts the
# pipeline's target. Run it again after changing the spec or upgrading: only changed units are
# rewritten. DESTDIR=<dir> installs into a staging root instead (no user, no systemctl).
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

spec="" prefix="/opt/tradepipe" host_cpus="" user="tradepipe"
while [ $# -gt 0 ]; do
  case "$1" in
    -f|--file) spec="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --host-cpus) host_cpus="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown argument $1" >&2; usage ;;
  esac
done
[ -n "$spec" ] || { echo "install.sh: -f pipeline.yaml is required" >&2; usage; }
[ -r "$spec" ] || { echo "install.sh: cannot read $spec" >&2; exit 1; }

src="$(cd "$(dirname "$0")/.." && pwd)"
dest="${DESTDIR:-}"
if [ -z "$dest" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (or set DESTDIR to stage the files)" >&2
  exit 1
fi
node="$src/node_modules/node/bin/node"
[ -x "$node" ] || { echo "install.sh: run 'npm ci' in $src first" >&2; exit 1; }

# Validate before touching anything: an invalid spec installs nothing.
"$node" "$src/bin/tradepipe.ts" validate -f "$spec" >/dev/null || {
  "$node" "$src/bin/tradepipe.ts" validate -f "$spec" >&2 || true
  echo "install.sh: nothing installed" >&2
  exit 1
}
spec="$(realpath "$spec")"
# Run from $src so that `yaml` resolves from tradepipe's own packages, wherever this is run from.
name="$(cd "$src" && "$node" -e 'import("yaml").then(y=>{const d=y.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.stdout.write(d.metadata.name)})' "$spec")"
config="/etc/tradepipe/$name"

step() { printf '==> %s\n' "$*"; }

if [ -z "$dest" ] && ! id "$user" >/dev/null 2>&1; then
  step "creating system user $user"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
fi

step "copying tradepipe to $dest$prefix"
mkdir -p "$dest$prefix"
# What the stages run: the CLI, the services, config, migrations and the installed packages,
# and the checkout's own strategy modules (spec.strategies[].module: strategies/<name>.ts).
extra=()
[ -d "$src/strategies" ] && extra+=(strategies)
tar -C "$src" -cf - bin services operator config sql native-deploy package.json package-lock.json node_modules "${extra[@]}" \
  | tar -C "$dest$prefix" -xf -

step "writing $dest$config"
install -d -m 0750 "$dest$config"
install -d -m 0700 "$dest$config/credentials"
install -m 0640 "$spec" "$dest$config/pipeline.yaml"
[ -e "$dest$config/sectors.yaml" ] || install -m 0640 "$src/config/sectors.yaml" "$dest$config/sectors.yaml"
if [ ! -e "$dest$config/database.env" ]; then
  # Read by systemd (as root) before the service starts, so root-only is enough.
  install -m 0600 /dev/null "$dest$config/database.env"
  echo "DATABASE_URL=postgres://tradepipe@127.0.0.1:5432/tradepipe" >"$dest$config/database.env"
fi
if [ -z "$dest" ]; then chgrp "$user" "$config" "$config/pipeline.yaml" "$config/sectors.yaml"; fi

step "rendering units into $dest/etc/systemd/system"
render_args=(render systemd -f "$spec" -o "$dest/etc/systemd/system" --prefix "$prefix" --config-dir "$config")
[ -n "$host_cpus" ] && render_args+=(--host-cpus "$host_cpus")
[ -z "$host_cpus" ] && [ -z "$dest" ] && render_args+=(--host-cpus "$(nproc --all)")
"$node" "$src/bin/tradepipe.ts" "${render_args[@]}"

if [ -z "$dest" ]; then
  step "migrating the database"
  (set -a; . "$config/database.env"; "$node" "$prefix/bin/tradepipe.ts" migrate)
  step "enabling and starting tradepipe-$name.target"
  systemctl daemon-reload
  systemctl enable --now "tradepipe-$name.target"
  systemctl try-restart "tradepipe-$name-*.service"
fi
step "done: broker keys go in $config/credentials/ (APCA_API_KEY_ID, APCA_API_SECRET_KEY, mode 0600)"
