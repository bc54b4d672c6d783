/**
 * db/errors: the SQLSTATE codes tradepipe's own triggers raise (see sql/README.md), turned into
 * TradepipeErrors so callers branch on `code`, never on message text.
 */
import { TradepipeError } from "../errors.ts";

/** SQLSTATE of a write refused because its fencing epoch is not the stage's current one. */
export const SQLSTATE_STALE_EPOCH = "TP001";
/** SQLSTATE of an UPDATE, DELETE or TRUNCATE attempted on the append-only audit trail. */
export const SQLSTATE_APPEND_ONLY = "TP002";

function sqlState(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

/** isStaleEpochError: the database refused a write from a deposed (or never-elected) leader. */
export function isStaleEpochError(err: unknown): boolean {
  return (
    sqlState(err) === SQLSTATE_STALE_EPOCH ||
    (err instanceof TradepipeError && err.code === "TP_ERR_STALE_EPOCH")
  );
}

/**
 * translateDbError maps tradepipe's SQLSTATEs to TradepipeErrors (keeping the original as
 * `cause`); any other error is returned unchanged.
 */
export function translateDbError(err: unknown): unknown {
  const state = sqlState(err);
  const message = (err as { message?: string } | null)?.message;
  if (state === SQLSTATE_STALE_EPOCH) {
    return new TradepipeError("TP_ERR_STALE_EPOCH", message, { cause: err });
  }
  if (state === SQLSTATE_APPEND_ONLY) {
    return new TradepipeError("TP_ERR_APPEND_ONLY", message, { cause: err });
  }
  return err;
}

/** Node socket errors that mean the server could not be reached or the connection broke. */
const NETWORK_ERRNOS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * isDatabaseUnavailable: the error says the database is away (down, restarting, unreachable,
 * read-only after a demotion, too slow to answer, or out of a resource such as disk space), not
 * that this process did something wrong. A stage rides such errors out (stands by and
 * reconnects) instead of exiting.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof TradepipeError) {
    if (err.code === "TP_ERR_DB_UNAVAILABLE" || err.code === "TP_ERR_LEADERSHIP_DEADLINE")
      return true;
    return err.cause !== undefined && isDatabaseUnavailable(err.cause);
  }
  if (err instanceof AggregateError && err.errors.some(isDatabaseUnavailable)) return true;
  const state = sqlState(err);
  if (state !== undefined) {
    if (NETWORK_ERRNOS.has(state)) return true;
    // 08: connection exception; 57P01-57P05: shutdown, crash recovery, cannot connect now,
    // idle session timeout; 25006: read-only transaction (a standby or a demoted primary);
    // 57014: statement timeout or cancel (a hung server); 53: insufficient resources — 53100
    // disk full (the server stays up, answers reads and refuses every write that needs a new
    // block until space is freed), 53200 out of memory, 53300 too many connections.
    if (state.startsWith("08") || state.startsWith("53") || /^57P0[1-5]$/.test(state)) return true;
    if (state === "25006" || state === "57014") return true;
  }
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message !== "string") return false;
  return /Connection terminated|connection timeout|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error|read-only|the database system is|server closed the connection|Connection ended|not queryable/i.test(
    message,
  );
}
