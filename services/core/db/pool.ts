/**
 * pool: the connection pool of a long-running process (a stage, the fused pipeline). Every
 * connection is set up so that a database that goes away — crashed, restarted, failed over,
 * cut off, or a primary demoted to read-only — is noticed within seconds instead of hanging:
 *
 * - read-write sessions only (libpq's `target_session_attrs=read-write`, which node-postgres
 *   does not implement): each new connection is checked and refused when the server is a
 *   standby or read-only, so a reconnect after a failover never lands on the old primary;
 * - TCP keepalives on the client socket, and on the server's side of it (`tcp_keepalives_*`)
 *   with `tcp_user_timeout`, so a peer that vanished is dropped on both ends (node-postgres and
 *   Node have no client-side TCP_USER_TIMEOUT; the query timeout below covers that side);
 * - a server `statement_timeout`, a client `query_timeout` a little longer (a server that does
 *   not answer at all), and a connect timeout;
 * - `idle_in_transaction_session_timeout`, so a stalled client never holds locks for long.
 */
import pg from "pg";

/** WRITABLE_SQL: true on a session that accepts writes (libpq's read-write test). */
export const WRITABLE_SQL =
  "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable";

export const POOL_TIMEOUTS = {
  // Generous: scram authentication is CPU-bound, and a loaded host starting many processes is slow.
  connectMs: 10_000,
  statementMs: 10_000,
  /** Client side: the server did not answer at all (hung, or the network dropped the path). */
  queryMs: 12_000,
  keepAliveIdleMs: 2_000,
  /** Server side: the client vanished (seconds for tcp_keepalives_*, ms for tcp_user_timeout). */
  serverKeepaliveIdleS: 2,
  serverKeepaliveIntervalS: 1,
  serverKeepaliveCount: 3,
  serverTcpUserTimeoutMs: 5_000,
  idleInTransactionMs: 30_000,
};

export interface StagePoolOptions {
  max?: number;
  /** Refuse sessions that cannot write (default true: stages write). */
  readWrite?: boolean;
}

/**
 * targetSessionAttrs reads `target_session_attrs` from a connection string (libpq's name) and
 * returns the URL without it (node-postgres would pass it on as a server setting).
 */
export function targetSessionAttrs(url: string): { url: string; attrs: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, attrs: undefined };
  }
  const attrs = parsed.searchParams.get("target_session_attrs") ?? undefined;
  if (attrs === undefined) return { url, attrs };
  parsed.searchParams.delete("target_session_attrs");
  return { url: parsed.toString(), attrs };
}

/** serverOptions: the `options` startup parameter (server settings for every session). */
export function serverOptions(): string {
  const t = POOL_TIMEOUTS;
  return [
    `-c tcp_keepalives_idle=${t.serverKeepaliveIdleS}`,
    `-c tcp_keepalives_interval=${t.serverKeepaliveIntervalS}`,
    `-c tcp_keepalives_count=${t.serverKeepaliveCount}`,
    `-c tcp_user_timeout=${t.serverTcpUserTimeoutMs}`,
    `-c idle_in_transaction_session_timeout=${t.idleInTransactionMs}`,
  ].join(" ");
}

/** createStagePool opens a pool on `connectionString` with the settings above. */
export function createStagePool(connectionString: string, opts: StagePoolOptions = {}): pg.Pool {
  const { url, attrs } = targetSessionAttrs(connectionString);
  if (attrs !== undefined && attrs !== "read-write" && attrs !== "any" && attrs !== "primary") {
    throw new Error(
      `target_session_attrs=${attrs} in DATABASE_URL: a stage writes, so only read-write (the default), primary or any make sense`,
    );
  }
  const readWrite = (opts.readWrite ?? true) && attrs !== "any";
  const t = POOL_TIMEOUTS;
  return new pg.Pool({
    connectionString: url,
    max: opts.max ?? 6,
    connectionTimeoutMillis: t.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: t.keepAliveIdleMs,
    statement_timeout: t.statementMs,
    query_timeout: t.queryMs,
    options: serverOptions(),
    ...(readWrite ? { onConnect: refuseReadOnly } : {}),
  });
}

/** refuseReadOnly rejects a new session on a standby or a read-only (demoted) primary. */
async function refuseReadOnly(client: pg.ClientBase): Promise<void> {
  const r = await client.query<{ writable: boolean }>(WRITABLE_SQL);
  if (r.rows[0]?.writable !== true) {
    throw Object.assign(
      new Error(
        "the server is read-only (a standby or a demoted primary): not a read-write session",
      ),
      { code: "25006" },
    );
  }
}
