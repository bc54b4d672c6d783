/**
 * leadership: one active instance per stage on a shared Postgres (bare metal, local runs).
 *
 * A contender takes a session advisory lock on a connection of its own; whoever holds it is the
 * leader and bumps the stage's fencing epoch in stage_leadership in the same step. The stage
 * stamps every write with that epoch; the database refuses writes with any other epoch (see
 * sql/0003_fencing.sql), so a deposed leader that has not noticed yet cannot corrupt state.
 * If the lock connection breaks, the server drops the lock; `lost` settles and the stage must
 * stop acting at once.
 */
import type pg from "pg";
import { TradepipeError } from "../errors.ts";
import { WRITABLE_SQL } from "./pool.ts";

export interface Leadership {
  stage: string;
  holder: string;
  /** The fencing epoch to stamp on every write while leading. */
  epoch: number;
  /**
   * Settles (never rejects) with the reason when leadership is lost without release(): the lock
   * connection failed, a renewal failed or hung, the deadline passed, or the epoch moved on.
   */
  lost: Promise<Error>;
  /**
   * mayAct: true while this instance may act (send an order): not lost, not released, and its
   * last successful renewal started less than `actBoundMs` ago. IMPORTANT: ask it right before
   * every external action; a leader whose database went away keeps `epoch` but must not act.
   */
  mayAct(): boolean;
  /** Records liveness (renewed_at); rejects with TP_ERR_STALE_EPOCH if the epoch moved on. */
  renew(): Promise<void>;
  /** Gives leadership up: marks it released, unlocks and returns the connection. Idempotent. */
  release(): Promise<void>;
}

/**
 * LEADERSHIP_TIMING: the deadline rule. A leader renews every `renewIntervalMs`; a renewal that
 * has not answered within `renewTimeoutMs` counts as failed (the connection is destroyed, which
 * ends the session and its lock). A leader acts only while its last successful renewal *started*
 * less than `actBoundMs` ago. A successor that takes the lock from a leader that did not release
 * waits `takeoverWaitMs` (longer than `actBoundMs`) before it acts, so the two never act at once:
 * the old leader's last successful renewal started before its session ended (or its primary was
 * demoted), which is before the successor took the lock.
 */
export const LEADERSHIP_TIMING = {
  renewIntervalMs: 1_000,
  renewTimeoutMs: 2_000,
  actBoundMs: 4_000,
  takeoverWaitMs: 6_000,
};

export interface AcquireOptions {
  /** Renew every this many ms (default LEADERSHIP_TIMING; 0 disables, then call renew() yourself). */
  renewIntervalMs?: number;
  /** A renewal slower than this fails (default LEADERSHIP_TIMING.renewTimeoutMs). */
  renewTimeoutMs?: number;
  /** Act only this long after the last successful renewal started (default LEADERSHIP_TIMING). */
  actBoundMs?: number;
  /** Wait this long before leading after a leader that did not release (default LEADERSHIP_TIMING). */
  takeoverWaitMs?: number;
  /**
   * Asked before each attempt and on every renewal: null while this instance may lead, else the
   * reason it may not (a colocated pod whose group does not lead; see leadership-group.ts). A
   * leader told a reason gives leadership up: `lost` settles with TP_ERR_LEADERSHIP_MOVED.
   */
  mayLead?: () => Promise<string | null>;
  /** Aborts a takeover wait (acquireLeadership then releases and resolves null). */
  signal?: AbortSignal;
  /** Called once the lock is taken and the takeover wait begins (for readiness reasons). */
  onTakeoverWait?: (ms: number) => void;
}

/** leadershipLockKey is the advisory-lock name of a stage (hashed to a bigint by Postgres). */
export function leadershipLockKey(stage: string): string {
  return `tradepipe.stage:${stage}`;
}

// The CTE reads the row as it was before this statement: whether its last leader released.
const BUMP_EPOCH = `
WITH prior AS (SELECT released_at IS NULL AS held FROM stage_leadership WHERE stage = $1)
INSERT INTO stage_leadership AS l (stage, holder, epoch) VALUES ($1, $2, 1)
ON CONFLICT (stage) DO UPDATE
   SET epoch = l.epoch + 1, holder = EXCLUDED.holder, acquired_at = now(), renewed_at = now(),
       released_at = NULL
RETURNING epoch, (SELECT held FROM prior) AS prior_held`;

// Never waits: while writes of this leader are still in flight (they hold the row FOR SHARE),
// the mark is skipped and a successor simply waits out the takeover time.
const MARK_RELEASED = `
UPDATE stage_leadership SET released_at = now()
 WHERE stage = $1 AND epoch = $2
   AND stage IN (SELECT stage FROM stage_leadership WHERE stage = $1 FOR UPDATE SKIP LOCKED)`;

/**
 * acquireLeadership tries once to become `stage`'s leader. Returns null when another instance
 * leads (its lock is held); callers retry on their own schedule.
 */
export async function acquireLeadership(
  pool: pg.Pool,
  stage: string,
  holder: string,
  opts: AcquireOptions = {},
): Promise<Leadership | null> {
  const renewEvery = opts.renewIntervalMs ?? LEADERSHIP_TIMING.renewIntervalMs;
  const renewTimeout = opts.renewTimeoutMs ?? LEADERSHIP_TIMING.renewTimeoutMs;
  const actBound = opts.actBoundMs ?? LEADERSHIP_TIMING.actBoundMs;
  const takeoverWait = opts.takeoverWaitMs ?? LEADERSHIP_TIMING.takeoverWaitMs;
  const client = await pool.connect();
  let lostResolve: (e: Error) => void = () => {};
  let isLost = false;
  const lost = new Promise<Error>((r) => {
    lostResolve = (e) => {
      isLost = true;
      r(e);
    };
  });
  let released = false;
  let connectionBroken = false;
  const onError = (err: Error): void => {
    connectionBroken = true;
    if (!released) lostResolve(err);
  };
  client.on("error", onError);

  let locked = false;
  try {
    const writable = await client.query<{ writable: boolean }>(WRITABLE_SQL);
    if (writable.rows[0]?.writable !== true) {
      throw new TradepipeError(
        "TP_ERR_DB_UNAVAILABLE",
        `cannot lead ${stage}: the database is read-only (a standby or a demoted primary)`,
      );
    }
    const res = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked",
      [leadershipLockKey(stage)],
    );
    locked = res.rows[0]?.locked === true;
    if (!locked) {
      client.off("error", onError);
      client.release();
      return null;
    }
    // The deadline counts from the moment the request left: the server ran it no earlier.
    let renewedAt = performance.now();
    const bumped = await client.query<{ epoch: string; prior_held: boolean | null }>(BUMP_EPOCH, [
      stage,
      holder,
    ]);
    const epoch = Number(bumped.rows[0]?.epoch);
    const priorHeld = bumped.rows[0]?.prior_held === true;

    let timer: NodeJS.Timeout | undefined;
    let deadlineTimer: NodeJS.Timeout | undefined;
    const armDeadline = () => {
      clearTimeout(deadlineTimer);
      deadlineTimer = setTimeout(() => {
        if (released) return;
        lostResolve(
          new TradepipeError(
            "TP_ERR_LEADERSHIP_DEADLINE",
            `leadership of ${stage} lost: no successful renewal for ${actBound} ms`,
          ),
        );
      }, actBound);
      deadlineTimer.unref();
    };
    armDeadline();
    const renewOnce = async (): Promise<void> => {
      const startedAt = performance.now();
      const r = await client.query(
        "UPDATE stage_leadership SET renewed_at = now() WHERE stage = $1 AND epoch = $2",
        [stage, epoch],
      );
      if (r.rowCount === 0) {
        const err = new TradepipeError(
          "TP_ERR_STALE_EPOCH",
          `leadership of ${stage} lost: epoch ${epoch} is no longer current`,
        );
        lostResolve(err);
        throw err;
      }
      const barred = await opts.mayLead?.();
      if (barred) {
        const err = new TradepipeError(
          "TP_ERR_LEADERSHIP_MOVED",
          `leadership of ${stage} given up: ${barred}`,
        );
        lostResolve(err);
        throw err;
      }
      if (!isLost) {
        renewedAt = startedAt;
        armDeadline();
      }
    };
    const renew = async (): Promise<void> => {
      let hung: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          renewOnce(),
          new Promise<never>((_, reject) => {
            hung = setTimeout(() => {
              // A renewal that hangs counts as failed: end the session (and with it the lock)
              // rather than wait for a server that may no longer be the primary.
              connectionBroken = true;
              (
                client as unknown as { connection?: { stream?: { destroy(): void } } }
              ).connection?.stream?.destroy();
              reject(
                new TradepipeError(
                  "TP_ERR_LEADERSHIP_DEADLINE",
                  `leadership of ${stage} lost: a renewal did not answer within ${renewTimeout} ms`,
                ),
              );
            }, renewTimeout);
          }),
        ]);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        if (!released) lostResolve(e);
        throw e;
      } finally {
        clearTimeout(hung);
      }
    };
    let renewing = false;
    if (renewEvery > 0) {
      timer = setInterval(() => {
        if (renewing) return;
        renewing = true;
        renew()
          .catch(() => {})
          .finally(() => {
            renewing = false;
          });
      }, renewEvery);
      timer.unref();
    }
    void lost.then(() => {
      clearInterval(timer);
      clearTimeout(deadlineTimer);
    });

    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      clearInterval(timer);
      clearTimeout(deadlineTimer);
      let ok = !connectionBroken && !isLost;
      if (ok) {
        ok = await client
          .query(MARK_RELEASED, [stage, epoch])
          .then(() =>
            client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [
              leadershipLockKey(stage),
            ]),
          )
          .then(
            () => true,
            () => false,
          );
      }
      client.off("error", onError);
      // A connection that may still hold the lock is destroyed, never returned to the pool.
      client.release(!ok);
    };
    const leadership: Leadership = {
      stage,
      holder,
      epoch,
      lost,
      mayAct: () => !released && !isLost && performance.now() - renewedAt < actBound,
      renew,
      release,
    };
    if (priorHeld && takeoverWait > 0) {
      // The previous leader did not release: it may still be acting on its last renewal (on
      // this server, or on a primary that was just demoted). Hold the lock and wait it out.
      opts.onTakeoverWait?.(takeoverWait);
      const waited = await sleepUnless(takeoverWait, opts.signal, lost);
      if (!waited) {
        await release();
        return null;
      }
    }
    return leadership;
  } catch (err) {
    client.off("error", onError);
    // Destroying the connection drops any advisory lock it took.
    client.release(true);
    throw err;
  }
}

/** sleepUnless waits `ms`; false when `signal` aborted or `lost` settled first. */
function sleepUnless(ms: number, signal: AbortSignal | undefined, lost: Promise<Error>) {
  return new Promise<boolean>((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => finish(true), ms);
    const onAbort = () => finish(false);
    signal?.addEventListener("abort", onAbort, { once: true });
    void lost.then(() => finish(false));
    function finish(ok: boolean): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    }
  });
}

/**
 * waitForLeadership retries acquireLeadership every `pollMs` (default 500) until this instance
 * leads or `signal` aborts (then it resolves null). A standby stage instance parks here.
 */
export async function waitForLeadership(
  pool: pg.Pool,
  stage: string,
  holder: string,
  opts: AcquireOptions & { pollMs?: number; signal?: AbortSignal } = {},
): Promise<Leadership | null> {
  const pollMs = opts.pollMs ?? 500;
  while (!opts.signal?.aborted) {
    if (!(await opts.mayLead?.())) {
      const lead = await acquireLeadership(pool, stage, holder, opts);
      // The group may have moved between the check and the lock: ask once more before acting.
      if (lead && (await opts.mayLead?.())) await lead.release();
      else if (lead) return lead;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      opts.signal?.addEventListener("abort", done, { once: true });
      function done(): void {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", done);
        resolve();
      }
    });
  }
  return null;
}
