/**
 * INTENT_VOID_AFTER_MS: how long an approved order intent stays valid without the execution
 * engine taking it. An intent published while no engine listens (a crash, a restart, a failover:
 * ZeroMQ's PUB/SUB drops it) is never heard of again; after this long the risk-manager stops
 * counting it as working exposure (when Postgres has no order for it either), and an engine that
 * queued it while recovering drops it instead of sending an order decided that long ago. Both
 * sides read this one value, so an intent the risk-manager has written off is never sent.
 */
export const INTENT_VOID_AFTER_MS = 60_000;
