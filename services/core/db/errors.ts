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
