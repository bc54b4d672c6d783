/**
 * TradepipeError is the one error type the product throws on purpose. Each has a stable `code`
 * (documented in services/core/README.md) so callers and tests branch on the code, never on the
 * message text, and an optional `cause` that keeps the underlying error.
 */
export const ErrorCodes = {
  TP_ERR_INVALID_SPEC: "The TradingPipeline spec failed validation.",
  TP_ERR_INVALID_DECIMAL: "A value is not a valid decimal number.",
  TP_ERR_INVALID_MESSAGE: "A bus message could not be decoded.",
  TP_ERR_BUS_CLOSED: "The bus is closed.",
  TP_ERR_DB_MIGRATION: "A database migration failed.",
  TP_ERR_STALE_EPOCH: "A write carried a fencing epoch older than the current leader's.",
  TP_ERR_LEADERSHIP_MOVED:
    "This instance gave its stage's leadership up: another pod leads the colocated pipeline.",
  TP_ERR_LEADERSHIP_DEADLINE:
    "This instance stopped leading its stage: no leadership renewal succeeded within the bound.",
  TP_ERR_BROKER_HTTP: "The broker answered with an error.",
  TP_ERR_BROKER_TIMEOUT: "The broker did not answer in time.",
  TP_ERR_RATE_LIMITED: "The broker's rate limit was reached.",
  TP_ERR_RISK_DENIED: "A pre-trade risk check refused the order.",
  TP_ERR_INVALID_TRANSITION: "An order state transition is not allowed.",
  TP_ERR_CONFIG: "The configuration is invalid or incomplete.",
  TP_ERR_BROKER_NETWORK: "The broker could not be reached (connection refused, reset or closed).",
  TP_ERR_BROKER_ORDER_UNRESOLVED:
    "An order request may have reached the broker and its outcome could not be established.",
  TP_ERR_BROKER_ORDER_CONFLICT:
    "The broker holds a different order under the same client_order_id.",
  TP_ERR_BROKER_STREAM: "A broker stream failed its handshake or sent an error.",
  TP_ERR_BROKER_PROTOCOL: "The broker answered in a way its API does not allow.",
  TP_ERR_CREDENTIALS_MISSING: "Broker API credentials were not found.",
  TP_ERR_DB_UNAVAILABLE: "The database could not be started or reached.",
  TP_ERR_APPEND_ONLY: "The audit trail is append-only: rows cannot be changed or removed.",
  TP_ERR_SIM_STATE:
    "The simulator's saved account file is unreadable, corrupt, in use or of another version.",
  TP_ERR_BAD_DATA: "A market-data file has a bad row (named with its file and row).",
  TP_ERR_JOURNAL: "The execution journal could not be written, synced or read.",
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class TradepipeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ErrorCodes[code], options);
    this.name = "TradepipeError";
    this.code = code;
  }
}

export function isTradepipeError(err: unknown, code?: ErrorCode): err is TradepipeError {
  return err instanceof TradepipeError && (code === undefined || err.code === code);
}
