/**
 * leadership-group: the stages of one colocated pod lead together or not at all.
 *
 * In a colocated pod the five stages talk over ipc:// sockets inside the pod, so every stage's
 * leader must sit in the same pod: a market-data leading in pod A feeds nobody when the
 * signal-bridge leads in pod B. Each stage still takes its own stage lock and fencing epoch
 * (leadership.ts); before it does, the pods agree which of them leads the pipeline.
 *
 * One session of the leading pod, the anchor, holds the session advisory lock `tradepipe.group`
 * on a connection of its own and records its group (the pod name) and backend pid in
 * leadership_group (sql/0006). The group leads while that pid still holds that lock, which
 * pg_locks shows to every session: the record alone is never trusted. A member whose group does
 * not lead stays on standby; when no live anchor exists, the first member to take the lock
 * becomes the anchor and its group leads. The anchor keeps the lock until its process ends, so a
 * stage crash inside the leading pod leaves the pipeline there (the restarted stage leads
 * again), while the anchor's own end hands the pipeline to whichever pod takes the lock next.
 */
import type pg from "pg";

/** The advisory-lock name that the anchor of the leading group holds. */
export const GROUP_LOCK_KEY = "tradepipe.group";

const LEADING_GROUP = `
SELECT g.holder,
       EXISTS (
         SELECT 1 FROM pg_locks l
          WHERE l.pid = g.anchor_pid AND l.locktype = 'advisory' AND l.granted
            AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)
       ) AS live
  FROM leadership_group g WHERE g.id = 1`;

const CLAIM = `
INSERT INTO leadership_group AS g (id, holder, anchor_pid, epoch) VALUES (1, $1, pg_backend_pid(), 1)
ON CONFLICT (id) DO UPDATE
   SET holder = EXCLUDED.holder, anchor_pid = EXCLUDED.anchor_pid, epoch = g.epoch + 1,
       acquired_at = now()
RETURNING epoch`;

export interface LeadershipGroup {
  /** This member's group: the pod's name. */
  readonly name: string;
  /**
   * leading tells whether this member's group leads the pipeline now. When no group leads, it
   * tries to make this member the anchor (and so its group the leader).
   */
  leading(): Promise<boolean>;
  /** The group that leads now, or null when none does. */
  leader(): Promise<string | null>;
  /** Whether this member is its group's anchor (holds the group lock). */
  readonly anchor: boolean;
  /** Gives the group lock up if this member holds it, for good: it never anchors again. Idempotent. */
  release(): Promise<void>;
}

/** joinLeadershipGroup makes this process a member of group `name` (its pod) on `pool`. */
export function joinLeadershipGroup(pool: pg.Pool, name: string): LeadershipGroup {
  let anchorClient: pg.PoolClient | null = null;
  let anchorBroken = false;
  // After release() this member never anchors again, even from a check already under way.
  let closed = false;
  const onAnchorError = () => {
    anchorBroken = true;
  };
  const dropAnchor = (destroy: boolean) => {
    const c = anchorClient;
    anchorClient = null;
    c?.off("error", onAnchorError);
    // A connection that may still hold the lock is destroyed, never returned to the pool.
    c?.release(destroy);
  };

  const leader = async (): Promise<string | null> => {
    const r = await pool.query<{ holder: string; live: boolean }>(LEADING_GROUP, [GROUP_LOCK_KEY]);
    const row = r.rows[0];
    return row?.live ? row.holder : null;
  };

  const tryAnchor = async (): Promise<boolean> => {
    const client = await pool.connect();
    client.on("error", onAnchorError);
    try {
      const got = await client.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked",
        [GROUP_LOCK_KEY],
      );
      if (got.rows[0]?.locked !== true) {
        client.off("error", onAnchorError);
        client.release();
        return false;
      }
      if (!closed) await client.query(CLAIM, [name]);
      if (closed) {
        // release() ran while this member was taking the lock: give it straight back.
        await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [GROUP_LOCK_KEY]);
        client.off("error", onAnchorError);
        client.release();
        return false;
      }
      anchorBroken = false;
      anchorClient = client;
      return true;
    } catch (err) {
      client.off("error", onAnchorError);
      // Destroying the connection drops any advisory lock it took.
      client.release(true);
      throw err;
    }
  };

  return {
    name,
    get anchor() {
      return anchorClient !== null;
    },
    leader,
    async leading() {
      if (closed) return false;
      if (anchorClient) {
        if (!anchorBroken) {
          // The anchor's own connection answers only while it is alive, and with it the lock.
          const alive = await anchorClient.query("SELECT 1").then(
            () => true,
            () => false,
          );
          if (alive) return true;
        }
        dropAnchor(true);
      }
      const current = await leader();
      if (current !== null) return current === name;
      return tryAnchor();
    },
    async release() {
      closed = true;
      if (!anchorClient) return;
      const c = anchorClient;
      const ok =
        !anchorBroken &&
        (await c.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [GROUP_LOCK_KEY]).then(
          () => true,
          () => false,
        ));
      dropAnchor(!ok);
    },
  };
}
