/**
 * db-metrics: how far the pipeline's Postgres standbys are behind, seen from the primary the
 * stage writes to (`pg_stat_replication.replay_lag`), as tradepipe_db_replication_lag_seconds —
 * the series the TradepipeDatabaseReplicationLag alert and the database dashboard read. With no
 * standby (a local run) the lag is 0: nothing is behind. Reading replay_lag needs the pg_monitor
 * role (or superuser); without it the gauge reads NaN ("unknown", which no alert threshold
 * matches) and the reason is logged once.
 */
import type pg from "pg";
import type { Logger, Metrics } from "../core/telemetry/index.ts";

export const REPLICATION_LAG_QUERY = `
SELECT count(*)::int AS standbys,
       count(replay_lag)::int AS measured,
       coalesce(max(extract(epoch FROM replay_lag)), 0)::float8 AS lag_seconds
  FROM pg_stat_replication`;

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
      if (r && r.standbys > 0 && r.measured === 0) {
        // Rows without replay_lag: a standby that has not replayed anything yet, or no
        // pg_monitor role. Either way the lag is unknown, not zero.
        gauge.set(Number.NaN);
        if (!warned) {
          warned = true;
          log.warn(
            { standbys: r.standbys },
            "replication lag unknown (no replay_lag; pg_monitor?)",
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
