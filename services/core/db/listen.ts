/**
 * listen: LISTEN on one channel over a dedicated pooled connection and hand every payload on.
 * When the connection breaks it reconnects with backoff and calls onListening again, because a
 * NOTIFY sent while nobody listened is lost: the caller re-reads the row it follows.
 */
import type pg from "pg";

const RECONNECT_MS = [250, 500, 1000, 2000, 5000];

export interface ChannelListener {
  stop(): Promise<void>;
}

export interface ChannelListenerOptions {
  /** onPayload receives each NOTIFY's payload on the channel. */
  onPayload(payload: string | undefined): void;
  /** onListening runs after every (re)connect: re-read the state, changes may have been missed. */
  onListening(): Promise<void>;
  /** onLost runs when the connection broke. */
  onLost(err: Error): void;
}

/** listenToChannel: `channel` must be a plain identifier (it is written into LISTEN as is). */
const STOP_WAIT_MS = 2_000;
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function listenToChannel(
  db: pg.Pool,
  channel: string,
  opts: ChannelListenerOptions,
): ChannelListener {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) {
    throw new Error(`listenToChannel: channel "${channel}" is not a plain lower-case identifier`);
  }
  let client: pg.PoolClient | null = null;
  let stopped = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;
  let connecting: Promise<void> = Promise.resolve();

  const onNotification = (msg: pg.Notification) => {
    if (msg.channel === channel) opts.onPayload(msg.payload);
  };

  const drop = (c: pg.PoolClient, err: Error) => {
    if (client !== c) return;
    client = null;
    c.removeListener("notification", onNotification);
    c.release(err);
    if (stopped) return;
    opts.onLost(err);
    schedule();
  };

  const schedule = () => {
    const delay = RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)]!;
    attempt++;
    retry = setTimeout(() => {
      connecting = connect();
    }, delay);
  };

  const connect = async () => {
    let c: pg.PoolClient;
    try {
      c = await db.connect();
    } catch (err) {
      if (stopped) return;
      opts.onLost(err as Error);
      schedule();
      return;
    }
    if (stopped) {
      c.release();
      return;
    }
    client = c;
    c.on("notification", onNotification);
    c.on("error", (err) => drop(c, err));
    try {
      await c.query(`LISTEN ${channel}`);
      attempt = 0;
      await opts.onListening();
    } catch (err) {
      drop(c, err as Error);
    }
  };

  connecting = connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      // A connect still waiting for a pool slot (the pool may be held by writes that cannot
      // finish, e.g. a fenced term's) must not hold the stop: once it gets its client it sees
      // `stopped` and releases it.
      await Promise.race([connecting, delay(STOP_WAIT_MS)]);
      const c = client;
      client = null;
      if (c) {
        c.removeListener("notification", onNotification);
        await c.query(`UNLISTEN ${channel}`).catch(() => {});
        c.release();
      }
    },
  };
}
