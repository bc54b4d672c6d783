/**
 * journal is the execution engine's append-only local record of order intents and audit rows:
 * the durable truth of what this instance decided, written on the order path BEFORE the order
 * goes to the broker, and projected into Postgres behind it (write-behind.ts).
 *
 * A file is a sequence of frames: `u32 LE payload length | u32 LE crc32(payload) | payload`.
 * `append` (or `appendAll`, several frames) is one `writeSync` (no fsync: ~1–2 µs; the bytes are in the page cache, so they
 * survive a kill -9 of the process but not a kernel crash or power loss). A timer off the path
 * group-fsyncs the file every `syncIntervalMs` on the thread pool and advances `durableTo`, the
 * offset up to which the file survives a crash of the machine too.
 *
 * `readJournal` returns every whole frame and stops cleanly at the first torn (short) or corrupt
 * (CRC mismatch, impossible length) frame: a crash mid-append or a lost page-cache tail leaves
 * exactly that, and everything before it is still good.
 */
import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { crc32 } from "node:zlib";
import { TradepipeError } from "../core/errors.ts";

/** Frame header: payload length and CRC-32 of the payload, both u32 little-endian. */
export const FRAME_HEADER_BYTES = 8;
/** A frame larger than this is corruption, not a record (records are a few hundred bytes). */
export const MAX_FRAME_BYTES = 1 << 20;

export interface JournalOptions {
  /** Group fsync period (off the order path); default 5 ms. 0: no timer (tests call sync()). */
  syncIntervalMs?: number;
  /** Called when a background fsync fails (the disk is gone): the shell must stop trading. */
  onSyncError?(err: Error): void;
}

export type JournalTail = "clean" | "torn" | "corrupt";

export interface JournalContents {
  records: Buffer[];
  /** Offset just past the last whole frame (where an appender continues). */
  validTo: number;
  /** What ended the read: the end of the file, a short frame, or a bad length / CRC. */
  tail: JournalTail;
}

/** readJournal reads every whole frame of `path`; a missing file reads as empty. */
export function readJournal(path: string): JournalContents {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return { records: [], validTo: 0, tail: "clean" };
    }
    throw err;
  }
  return decodeFrames(buf);
}

/** decodeFrames splits a journal image into its whole frames (see readJournal). */
export function decodeFrames(buf: Buffer): JournalContents {
  const records: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < FRAME_HEADER_BYTES) return { records, validTo: at, tail: "torn" };
    const len = buf.readUInt32LE(at);
    const crc = buf.readUInt32LE(at + 4);
    if (len === 0 || len > MAX_FRAME_BYTES) return { records, validTo: at, tail: "corrupt" };
    const end = at + FRAME_HEADER_BYTES + len;
    if (end > buf.length) {
      // A zero-filled tail (a file extended but never written, after a crash) is torn too.
      return { records, validTo: at, tail: "torn" };
    }
    const payload = buf.subarray(at + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== crc) return { records, validTo: at, tail: "corrupt" };
    records.push(payload);
    at = end;
  }
  return { records, validTo: at, tail: "clean" };
}

/**
 * Journal appends framed records to one file. Opening an existing file cuts a torn or corrupt
 * tail off first, so new frames never follow garbage.
 */
export class Journal {
  readonly path: string;
  readonly #fd: number;
  #appendedTo: number;
  #durableTo: number;
  #syncing = false;
  #closed = false;
  #frame = Buffer.allocUnsafe(4096);
  /** Set when a failed append could not be cut back off the file (see #write). */
  #torn: Error | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onSyncError: ((err: Error) => void) | undefined;

  constructor(path: string, opts: JournalOptions = {}) {
    this.path = path;
    const existing = readJournal(path);
    this.#fd = openSync(path, "a+", 0o600);
    if (existing.tail !== "clean") ftruncateSync(this.#fd, existing.validTo);
    this.#appendedTo = existing.validTo;
    fsyncSync(this.#fd);
    this.#durableTo = existing.validTo;
    // A new file's name is durable only once its directory is synced (fsync(2)).
    const dir = openSync(dirname(path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.#onSyncError = opts.onSyncError;
    const every = opts.syncIntervalMs ?? 5;
    if (every > 0) {
      this.#timer = setInterval(() => this.#groupSync(), every);
      this.#timer.unref();
    }
  }

  /** appendedTo: bytes written so far (in the page cache at least). */
  get appendedTo(): number {
    return this.#appendedTo;
  }

  /** durableTo: bytes known to be on disk (fsynced). */
  get durableTo(): number {
    return this.#durableTo;
  }

  /**
   * append writes one frame holding `payload` (UTF-8) with a single writeSync and returns the
   * offset just past it. IMPORTANT: on the order path; no fsync, no allocation beyond growing
   * the frame buffer for an unusually large record.
   */
  append(payload: string): number {
    this.#checkOpen();
    const total = this.#frameAt(payload, 0);
    this.#write(total);
    return this.#appendedTo;
  }

  /**
   * appendAll writes one frame per payload, in order, with a single writeSync (the records of
   * one decision: one system call instead of one each) and returns the offset past the last.
   * A record that cannot be framed (too large) writes none of them.
   */
  appendAll(payloads: readonly string[]): number {
    this.#checkOpen();
    let total = 0;
    for (const p of payloads) total = this.#frameAt(p, total);
    this.#write(total);
    return this.#appendedTo;
  }

  #checkOpen(): void {
    if (this.#closed) throw new TradepipeError("TP_ERR_JOURNAL", `journal ${this.path} is closed`);
  }

  /** #frameAt frames `payload` into the frame buffer at `at`; returns the end of the frame. */
  #frameAt(payload: string, at: number): number {
    const max = Buffer.byteLength(payload);
    if (max > MAX_FRAME_BYTES) {
      throw new TradepipeError(
        "TP_ERR_JOURNAL",
        `journal record of ${max} bytes exceeds ${MAX_FRAME_BYTES}`,
      );
    }
    if (this.#frame.length < at + FRAME_HEADER_BYTES + max) {
      const grown = Buffer.allocUnsafe(
        Math.max(at + FRAME_HEADER_BYTES + max, this.#frame.length * 2),
      );
      this.#frame.copy(grown, 0, 0, at);
      this.#frame = grown;
    }
    const frame = this.#frame;
    const len = frame.write(payload, at + FRAME_HEADER_BYTES, "utf8");
    const bodyAt = at + FRAME_HEADER_BYTES;
    frame.writeUInt32LE(len, at);
    frame.writeUInt32LE(crc32(frame.subarray(bodyAt, bodyAt + len)), at + 4);
    return bodyAt + len;
  }

  /**
   * #write writes the framed records, or none of them: a write that fails part way (a full disk
   * takes the bytes up to its last free block, then refuses) is cut back off the file, so a
   * later append never follows a torn frame and no record of a failed append survives to be
   * replayed. A journal that cannot be cut back refuses every later append.
   */
  #write(total: number): void {
    if (this.#torn !== undefined) {
      throw new TradepipeError(
        "TP_ERR_JOURNAL",
        `journal ${this.path} holds a failed append it could not remove: ${this.#torn.message}`,
      );
    }
    let written = 0;
    try {
      while (written < total) written += writeSync(this.#fd, this.#frame, written, total - written);
    } catch (err) {
      try {
        ftruncateSync(this.#fd, this.#appendedTo);
      } catch (cut) {
        this.#torn = cut as Error;
      }
      throw err;
    }
    this.#appendedTo += total;
  }

  /** sync fsyncs now (the caller's own thread) and returns the durable offset. */
  sync(): number {
    if (this.#closed) return this.#durableTo;
    const upTo = this.#appendedTo;
    fsyncSync(this.#fd);
    if (upTo > this.#durableTo) this.#durableTo = upTo;
    return this.#durableTo;
  }

  /** groupSync: one fdatasync on the thread pool covering everything appended so far. */
  #groupSync(): void {
    if (this.#syncing || this.#closed || this.#appendedTo === this.#durableTo) return;
    this.#syncing = true;
    const upTo = this.#appendedTo;
    fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      if (err) {
        this.#onSyncError?.(err);
        return;
      }
      if (upTo > this.#durableTo) this.#durableTo = upTo;
    });
  }

  /** close syncs what was appended and closes the file. */
  close(): void {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    try {
      this.sync();
    } finally {
      this.#closed = true;
      // An fdatasync still running on the pool holds no reference the close would break:
      // the kernel keeps the file until that call returns.
      closeSync(this.#fd);
    }
  }
}
