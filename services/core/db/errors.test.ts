/**
 * Which database errors a stage waits out (isDatabaseUnavailable) and which are its own fault,
 * from a table of the errors node-postgres hands back (a DatabaseError carrying the SQLSTATE).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { TradepipeError } from "../errors.ts";
import { isDatabaseUnavailable, isStaleEpochError } from "./errors.ts";

function serverError(code: string, message: string): Error {
  const err = new pg.DatabaseError(message, message.length, "error");
  err.code = code;
  return err;
}

const WAITED_OUT: Array<[string, string]> = [
  ["53100", 'could not extend file "base/16384/16483": No space left on device'],
  ["53200", "out of memory"],
  ["53300", "sorry, too many clients already"],
  ["53000", "insufficient resources"],
  ["08006", "connection failure"],
  ["57P01", "terminating connection due to administrator command"],
  ["57P03", "the database system is starting up"],
  ["25006", "cannot execute UPDATE in a read-only transaction"],
  ["57014", "canceling statement due to statement timeout"],
];

const OWN_FAULT: Array<[string, string]> = [
  ["22P02", 'invalid input syntax for type numeric: "x"'],
  ["23505", 'duplicate key value violates unique constraint "orders_pkey"'],
  ["42P01", 'relation "nope" does not exist'],
  ["TP001", "stale fencing epoch"],
  ["TP002", "order_audit_trail is append-only"],
];

for (const [code, message] of WAITED_OUT) {
  test(`SQLSTATE ${code} (${message}) is waited out`, () => {
    assert.equal(isDatabaseUnavailable(serverError(code, message)), true);
    // Also when a stage wrapped it on its way up.
    const wrapped = new TradepipeError("TP_ERR_JOURNAL", "journal replay failed", {
      cause: serverError(code, message),
    });
    assert.equal(isDatabaseUnavailable(wrapped), true);
  });
}

for (const [code, message] of OWN_FAULT) {
  test(`SQLSTATE ${code} (${message}) is not an outage`, () => {
    assert.equal(isDatabaseUnavailable(serverError(code, message)), false);
  });
}

test("a full disk is waited out, never taken for a stale epoch", () => {
  const full = serverError("53100", "could not extend file: No space left on device");
  assert.equal(isStaleEpochError(full), false);
  assert.equal(isDatabaseUnavailable(full), true);
});
