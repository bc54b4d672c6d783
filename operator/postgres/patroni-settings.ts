/**
 * patroni-settings: what every Patroni cluster of tradepipe shares, on Kubernetes (the operator)
 * and on bare metal (native-deploy): the HA loop's timings, the bootstrap roles, and the dynamic
 * configuration rendered from the spec (kept by Patroni in its DCS and changed through its REST
 * API's PATCH /config). Pure.
 */
import type { TradingPipeline } from "../../services/core/spec/index.ts";

/**
 * PATRONI_TIMINGS are the HA loop's timings, in seconds (see native-deploy/README.md).
 * IMPORTANT: Patroni requires loop_wait + 2 × retry_timeout ≤ ttl: a leader that cannot reach
 * the DCS gives up after retry_timeout and demotes itself before its key can expire, so no replica
 * is promoted while the old leader still accepts writes. Patroni refuses ttl < 20.
 */
export const PATRONI_TIMINGS = {
  /** Leader key lifetime: a crashed leader is replaced about this long after its last renewal. */
  ttl: 20,
  /** Seconds between HA loops; the leader renews its key each loop. */
  loopWait: 2,
  /** DCS and Postgres operations retried this long before the loop counts them failed. */
  retryTimeout: 5,
} as const;

/**
 * MAXIMUM_LAG_ON_FAILOVER: Patroni never promotes a replica further behind than this (bytes);
 * the operator's rollout also counts a replica this close as caught up.
 */
export const MAXIMUM_LAG_ON_FAILOVER = 1_048_576;

/** Roles Patroni creates at bootstrap; their passwords come from the environment. */
export const PATRONI_USERS = {
  superuser: "postgres",
  replication: "replicator",
  rewind: "rewinder",
} as const;

/** dynamicConfig is what Patroni keeps in the DCS for the whole cluster (bootstrap.dcs). */
export function dynamicConfig(p: TradingPipeline): Record<string, unknown> {
  const sync = p.spec.database.synchronous && p.spec.database.instances >= 2;
  return {
    ttl: PATRONI_TIMINGS.ttl,
    loop_wait: PATRONI_TIMINGS.loopWait,
    retry_timeout: PATRONI_TIMINGS.retryTimeout,
    // A replica further behind than this is never promoted (async mode's bound on loss).
    maximum_lag_on_failover: MAXIMUM_LAG_ON_FAILOVER,
    // Synchronous mode: a commit waits for the named synchronous standby, and only that standby
    // may be promoted. Not strict: with the standby gone the primary goes on alone (a second
    // failure could then lose writes); strict would stop commits instead.
    synchronous_mode: sync,
    synchronous_mode_strict: false,
    synchronous_node_count: 1,
    // With the DCS unreachable the leader demotes (failsafe mode would keep it primary).
    failsafe_mode: false,
    postgresql: {
      use_pg_rewind: true,
      use_slots: true,
      parameters: {
        wal_level: "replica",
        hot_standby: "on",
        wal_log_hints: "on",
        max_wal_senders: 10,
        max_replication_slots: 10,
        wal_keep_size: "256MB",
        max_connections: 200,
      },
    },
  };
}
