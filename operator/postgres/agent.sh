#!/bin/bash
# tradepipe Postgres agent: runs as the database container's entrypoint. It follows the role the
# operator writes on this pod's label tradepipe.io/db-role (a downward-API file that the kubelet
# refreshes) and does the one local step each role change needs:
#   (none)   wait: the operator has not chosen yet
#   primary  first start: initdb; later: promote this standby (pg_ctl promote)
#   replica  first start: clone the primary (pg_basebackup -R); a former primary is rewound
#   fenced   stop Postgres at once and stay stopped (the operator deletes the pod afterwards)
set -euo pipefail

LABELS=/etc/podinfo/labels
PGDATA="${PGDATA:?}"
RW_HOST="${TRADEPIPE_DB_RW_HOST:?}"
role() { sed -n 's/^tradepipe.io\/db-role="\(.*\)"$/\1/p' "$LABELS" 2>/dev/null || true; }
log() { echo "{\"msg\":\"$*\",\"pod\":\"${POD_NAME:-}\",\"role\":\"$(role)\"}"; }

until [ -n "$(role)" ]; do sleep 1; done
log "role assigned"
[ "$(role)" = fenced ] && { log "fenced before start"; exec sleep infinity; }

export PGPASSWORD="$POSTGRES_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ "$(role)" = primary ]; then
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=<(echo "$POSTGRES_PASSWORD") --auth=scram-sha-256
    echo "host all,replication all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -w start -o "-c listen_addresses=''"
    psql -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" || true
    pg_ctl -D "$PGDATA" -w stop -m fast
  else
    until pg_basebackup -h "$RW_HOST" -U "$POSTGRES_USER" -D "$PGDATA" -R -X stream -c fast; do
      log "waiting for the primary to clone from"; rm -rf "${PGDATA:?}"/*; sleep 2
    done
  fi
elif [ "$(role)" = replica ] && [ ! -f "$PGDATA/standby.signal" ]; then
  log "former primary: rewinding onto the new primary"
  pg_rewind -D "$PGDATA" --source-server="host=$RW_HOST user=$POSTGRES_USER dbname=postgres" -R \
    || { rm -rf "${PGDATA:?}"/*; pg_basebackup -h "$RW_HOST" -U "$POSTGRES_USER" -D "$PGDATA" -R -X stream -c fast; }
fi

postgres -D "$PGDATA" -c config_file=/etc/tradepipe-db/postgresql.conf &
PG_PID=$!
trap 'pg_ctl -D "$PGDATA" -m fast stop; wait $PG_PID' TERM INT
while kill -0 "$PG_PID" 2>/dev/null; do
  current="$(role)"
  if [ "$current" = fenced ]; then
    log "fenced: stopping Postgres"; pg_ctl -D "$PGDATA" -m immediate stop || true
    wait "$PG_PID" || true; exec sleep infinity
  fi
  if [ "$current" = primary ] && [ -f "$PGDATA/standby.signal" ]; then
    log "promoting"; pg_ctl -D "$PGDATA" -w promote
  fi
  sleep 0.5
done
wait "$PG_PID"
