/**
 * account-store: keeps the simulated paper account in a file between runs, as Alpaca keeps a
 * paper account between sessions. It reads the file once at start, saves it atomically
 * (temporary file, fsync, rename) a short while after each change and on close, and holds a
 * lock file beside it so two simulators never write one account.
 *
 * A file that cannot be read as an account is an error naming the file and the problem; it is
 * never replaced by a fresh account behind the user's back.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { TradepipeError } from "../../core/errors.ts";
import { type AccountSnapshot, decodeAccount } from "../core/account-file.ts";
import { InvalidDocumentError } from "../core/field-reader.ts";

/** Paths this process holds the lock of (a lock naming our own pid is otherwise stale). */
const heldLocks = new Set<string>();

function stateError(path: string, problem: string, cause?: unknown): TradepipeError {
  return new TradepipeError(
    "TP_ERR_SIM_STATE",
    `broker-sim: account file ${path}: ${problem}. To start again with a fresh account, delete ${path}`,
    cause === undefined ? undefined : { cause },
  );
}

/** readAccountFile loads a saved account; undefined when the file does not exist yet. */
export function readAccountFile(path: string): AccountSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") return undefined;
    throw stateError(path, `cannot be read (${err.code ?? err.message})`, e);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw stateError(path, `is not valid JSON (${(e as Error).message})`, e);
  }
  try {
    return decodeAccount(doc);
  } catch (e) {
    if (e instanceof InvalidDocumentError) throw stateError(path, e.message, e);
    throw e;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** lockAccountFile takes `<path>.lock` or explains who holds it. */
function lockAccountFile(path: string): string {
  const lock = `${path}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx", 0o644);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      heldLocks.add(lock);
      return lock;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== "EEXIST") throw stateError(path, `cannot create ${lock} (${err.code})`, e);
    }
    const owner = Number.parseInt(readFileSync(lock, "utf8").trim(), 10);
    const stale =
      !Number.isInteger(owner) || (owner === process.pid ? !heldLocks.has(lock) : !pidAlive(owner));
    if (!stale) {
      throw new TradepipeError(
        "TP_ERR_SIM_STATE",
        `broker-sim: account file ${path} is in use by process ${owner}${owner === process.pid ? " (this one)" : ""}; stop that simulator first (if none is running, delete ${lock})`,
      );
    }
    rmSync(lock, { force: true });
  }
  throw stateError(path, `cannot take ${lock}`);
}

export interface AccountStoreOptions {
  /** minIntervalMs between two saves (default 200). */
  minIntervalMs?: number;
  /** onError hears a failed save (default: a line on stderr); the store keeps trying. */
  onError?: (err: Error) => void;
}

/**
 * AccountStore saves the account a short while after it changes. A save serialises the whole
 * account, so the wait after a save is at least ten times what the save took: a long history
 * costs at most about a tenth of a core, however busy the account.
 */
export class AccountStore {
  readonly path: string;
  private render: (() => string) | undefined;
  private readonly minIntervalMs: number;
  private readonly onError: (err: Error) => void;
  private readonly lock: string;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private nextAllowedAt = 0;
  private closing = false;
  /** saves counts completed saves (tests and the admin state read it). */
  saves = 0;

  /** The constructor takes the lock (or throws naming who holds it); `track` says what to save. */
  constructor(path: string, options: AccountStoreOptions = {}) {
    this.path = path;
    this.minIntervalMs = options.minIntervalMs ?? 200;
    this.onError =
      options.onError ??
      ((err) => process.stderr.write(`broker-sim: saving ${path} failed: ${err.message}\n`));
    this.lock = lockAccountFile(path);
  }

  /** track sets how to render the account document (see AccountRenderer). */
  track(render: () => string): void {
    this.render = render;
  }

  /** release gives the lock back without saving (a start that failed). */
  release(): void {
    this.closing = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    heldLocks.delete(this.lock);
    rmSync(this.lock, { force: true });
  }

  /** markDirty schedules a save; many changes in a burst make one save. */
  markDirty(): void {
    if (this.closing || this.render === undefined) return;
    this.dirty = true;
    if (this.timer !== undefined || this.writing !== undefined) return;
    const wait = Math.max(0, this.nextAllowedAt - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, wait);
    this.timer.unref();
  }

  /** flush saves now if anything changed, after any save already under way. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing) await this.writing;
    if (this.dirty && this.render !== undefined) await this.save(this.closing);
  }

  /** close writes the last state and releases the lock; a failed last save rejects. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      this.dirty = true;
      await this.flush();
    } finally {
      this.release();
    }
  }

  private save(rethrow = false): Promise<void> {
    const started = performance.now();
    this.dirty = false;
    const run = (async () => {
      // The text is rendered synchronously, so the file is one consistent moment of the account.
      const text = this.render!();
      await writeAtomically(this.path, text);
      this.saves++;
    })()
      .catch((e: unknown) => {
        this.dirty = true;
        if (rethrow) throw stateError(this.path, `cannot be saved (${(e as Error).message})`, e);
        this.onError(e as Error);
      })
      .finally(() => {
        const took = performance.now() - started;
        this.nextAllowedAt = performance.now() + Math.max(this.minIntervalMs, 10 * took);
        this.writing = undefined;
        if (this.dirty && !this.closing) this.markDirty();
      });
    this.writing = run;
    return run;
  }
}

/**
 * writeAtomically replaces `path` so a reader sees the old file or the new one, never a part.
 * The account (cash, positions, every order) is the user's alone: mode 0600, and the temporary
 * file is made new (never written through a file or link someone left at its name).
 */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  const fh = await open(tmp, "wx", 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  try {
    const dir = openSync(dirname(path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}
