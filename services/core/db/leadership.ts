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

export interface Leadership {
  stage: string;
  holder: string;
  /** The fencing epoch to stamp on every write while leading. */
  epoch: number;
  /**
   * Settles (never rejects) with the reason when leadership is lost without release(): the lock
   * connection failed, or the epoch moved on (renewal found another epoch).
   */
  lost: Promise<Error>;
  /** Records liveness (renewed_at); rejects with TP_ERR_STALE_EPOCH if the epoch moved on. */
  renew(): Promise<void>;
  /** Gives leadership up: unlocks and returns the connection. Idempotent. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** Renew every this many ms (default 2000; 0 disables, then call renew() yourself). */
  renewIntervalMs?: number;
  /**
   * Asked before each attempt and on every renewal: null while this instance may lead, else the
   * reason it may not (a colocated pod whose group does not lead; see leadership-group.ts). A
   * leader told a reason gives leadership up: `lost` settles with TP_ERR_LEADERSHIP_MOVED.
   */
  mayLead?: () => Promise<string | null>;
}

/** leadershipLockKey is the advisory-lock name of a stage (hashed to a bigint by Postgres). */
export function leadershipLockKey(stage: string): string {
  return `tradepipe.stage:${stage}`;
}

const BUMP_EPOCH = `
INSERT INTO stage_leadership AS l (stage, holder, epoch) VALUES ($1, $2, 1)
ON CONFLICT (stage) DO UPDATE
   SET epoch = l.epoch + 1, holder = EXCLUDED.holder, acquired_at = now(), renewed_at = now()
RETURNING epoch`;

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
  const client = await pool.connect();
  let lostResolve: (e: Error) => void = () => {};
  const lost = new Promise<Error>((r) => {
    lostResolve = r;
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
    const bumped = await client.query<{ epoch: string }>(BUMP_EPOCH, [stage, holder]);
    const epoch = Number(bumped.rows[0]?.epoch);

    let timer: NodeJS.Timeout | undefined;
    const renew = async (): Promise<void> => {
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
    };
    const renewEvery = opts.renewIntervalMs ?? 2000;
    if (renewEvery > 0) {
      timer = setInterval(() => {
        renew().catch((err: unknown) => {
          if (!released) lostResolve(err instanceof Error ? err : new Error(String(err)));
        });
      }, renewEvery);
      timer.unref();
    }
    void lost.then(() => clearInterval(timer));

    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      clearInterval(timer);
      let ok = !connectionBroken;
      if (ok) {
        ok = await client
          .query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [leadershipLockKey(stage)])
          .then(
            () => true,
            () => false,
          );
      }
      client.off("error", onError);
      // A connection that may still hold the lock is destroyed, never returned to the pool.
      client.release(!ok);
    };
    return { stage, holder, epoch, lost, renew, release };
  } catch (err) {
    client.off("error", onError);
    // Destroying the connection drops any advisory lock it took.
    client.release(true);
    throw err;
  }
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
