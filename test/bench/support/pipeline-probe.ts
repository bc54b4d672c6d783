/**
 * pipeline-probe: timestamps (CLOCK_MONOTONIC, shared by every process on the host) at the two
 * ends of the tick → order path and inside it, for the pipeline benchmark. Installed in the
 * benchmark process for the fused pipeline, and preloaded into every stage process for the
 * multi-process one (`NODE_OPTIONS=--import <this file>` with TRADEPIPE_BENCH_PROBE_DIR set: it
 * then writes what it saw to `<dir>/<pid>.json` when the process exits).
 *
 * - frame: a WebSocket message arriving on a market-data socket (ws emits "message"; the probe
 *   wraps WebSocket.prototype.emit, so the stamp is taken before the client decodes anything);
 * - written: undici about to write an order request (`undici:client:sendHeaders` for
 *   POST …/v2/orders; undici writes the headers and body right after publishing it);
 * - records: a quote record reaching the market-data stage (`tradepipe:md.record`), i.e. after
 *   the Alpaca client decoded the frame;
 * - book: the market-data core's time per book update (`tradepipe:md.book-applied`);
 * - indicators / inference: the signal-bridge's per-tick times (`tradepipe:sb.timing`).
 */
import { subscribe } from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import type { BookApplied } from "../../../services/market-data/channels.ts";
import type { SignalTiming } from "../../../services/signal-bridge/channels.ts";

export interface ProbeRecord {
  frames: bigint[];
  /** Quote records reaching the market-data stage (after the client decoded the frame). */
  records: bigint[];
  written: bigint[];
  book: number[];
  indicators: number[];
  inference: number[];
}

export interface Probe extends ProbeRecord {
  clear(): void;
}

let installed: Probe | undefined;

export function installProbe(): Probe {
  if (installed) return installed;
  const p: Probe = {
    frames: [],
    records: [],
    written: [],
    book: [],
    indicators: [],
    inference: [],
    clear() {
      for (const a of [p.frames, p.records, p.written, p.book, p.indicators, p.inference]) {
        a.length = 0;
      }
    },
  };
  const emit = WebSocket.prototype.emit;
  WebSocket.prototype.emit = function (this: WebSocket, event: string | symbol) {
    if (event === "message" && this.url.includes("/v2/")) p.frames.push(process.hrtime.bigint());
    // biome-ignore lint/complexity/noArguments: forwards whatever ws emits, unchanged
    return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
  } as typeof emit;
  subscribe("undici:client:sendHeaders", (m) => {
    const now = process.hrtime.bigint();
    const r = (m as { request: { method: string; path: string } }).request;
    if (r.method === "POST" && r.path.endsWith("/v2/orders")) p.written.push(now);
  });
  subscribe("tradepipe:md.record", (m) => {
    if ((m as { T?: unknown }).T === "q") p.records.push(process.hrtime.bigint());
  });
  subscribe("tradepipe:md.book-applied", (m) => p.book.push((m as BookApplied).ns));
  subscribe("tradepipe:sb.timing", (m) => {
    const t = m as SignalTiming;
    p.indicators.push(t.indicatorsNs);
    if (t.inferenceNs >= 0) p.inference.push(t.inferenceNs);
  });
  installed = p;
  return p;
}

/** serialize renders a record as JSON (bigints as strings). */
export function serialize(r: ProbeRecord): string {
  return JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

export function deserialize(text: string): ProbeRecord {
  const raw = JSON.parse(text);
  return {
    frames: raw.frames.map(BigInt),
    records: raw.records.map(BigInt),
    written: raw.written.map(BigInt),
    book: raw.book,
    indicators: raw.indicators,
    inference: raw.inference,
  };
}

const dir = process.env.TRADEPIPE_BENCH_PROBE_DIR;
if (dir) {
  const probe = installProbe();
  process.on("exit", () => {
    writeFileSync(join(dir, `${process.pid}.json`), serialize(probe));
  });
}
