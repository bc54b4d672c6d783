/**
 * db-metrics: how far the pipeline's Postgres standbys are behind, seen from the primary the
 * stage writes to (`pg_stat_replication.replay_lag`; 0 for a standby that has replayed everything
 * the primary wrote), as tradepipe_db_replication_lag_seconds —
 * the series the TradepipeDatabaseReplicationLag alert and the database dashboard read. With no
 * standby (a local run) the lag is 0: nothing is behind. Reading replay_lag needs the pg_monitor
 * role (or superuser); without it the gauge reads NaN ("unknown", which no alert threshold
 * matches) and the reason is logged once.
 */
import type pg from "pg";
import type { Logger, Metrics } from "../core/telemetry/index.ts";

// Postgres shows replay_lag as NULL not only without the privilege to see it but also once a
// standby has caught up and WAL has stopped coming (an idle primary, outside market hours): a
// standby that has replayed everything the primary wrote is 0 s behind, not "unknown". A row
// whose lag is neither measured nor provably zero counts as unknown.
export const REPLICATION_LAG_QUERY = `
WITH standby AS (
  SELECT CASE
           WHEN replay_lag IS NOT NULL THEN extract(epoch FROM replay_lag)::float8
           WHEN state = 'streaming' AND replay_lsn >= pg_current_wal_lsn() THEN 0::float8
         END AS lag_seconds
    FROM pg_stat_replication)
SELECT count(*)::int AS standbys,
       count(lag_seconds)::int AS measured,
       coalesce(max(lag_seconds), 0)::float8 AS lag_seconds
  FROM standby`;

export interface ReplicationLagSampler {
  sample(): Promise<number | null>;
  stop(): void;
}

export function startReplicationLagSampler(
  db: pg.Pool,
  metrics: Metrics,
  log: Logger,
  intervalMs = 5_000,
): ReplicationLagSampler {
  const gauge = metrics.gauge(
    "db_replication_lag_seconds",
    "How far the furthest standby's replay is behind the primary (0 without standbys).",
  );
  // prom-client shows an unset gauge as 0, which would claim "no lag"; unknown is NaN.
  gauge.set(Number.NaN);
  let warned = false;
  const sample = async (): Promise<number | null> => {
    try {
      const { rows } = await db.query<{ standbys: number; measured: number; lag_seconds: number }>(
        REPLICATION_LAG_QUERY,
      );
      const r = rows[0];
      if (r && r.measured < r.standbys) {
        // A standby whose lag can be neither read nor shown to be zero: one still catching up
        // before its first report, or no pg_monitor role. Its lag is unknown, not zero.
        gauge.set(Number.NaN);
        if (!warned) {
          warned = true;
          log.warn(
            { standbys: r.standbys },
            "replication lag unknown (no replay_lag or replay_lsn: pg_monitor?)",
          );
        }
        return null;
      }
      const lag = r?.lag_seconds ?? 0;
      gauge.set(lag);
      return lag;
    } catch (err) {
      gauge.set(Number.NaN);
      if (!warned) {
        warned = true;
        log.warn({ err: (err as Error).message }, "replication lag not readable");
      }
      return null;
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  return { sample, stop: () => clearInterval(timer) };
}
