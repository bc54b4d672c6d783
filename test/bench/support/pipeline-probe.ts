/**
 * pipeline-probe: timestamps (CLOCK_MONOTONIC, shared by every process on the host) at the two
 * ends of the tick → order path and inside it, for the pipeline benchmark. Installed in the
 * fused pipeline's process, and preloaded into every stage process for the multi-process runs
 * (`NODE_OPTIONS=--import <this file>` with TRADEPIPE_BENCH_PROBE_DIR set: it then writes what
 * it saw to `<dir>/<pid>.json` when the process exits, with the process's role: the stage name
 * from `tradepipe stage <name>`, "fused" or "floor").
 *
 * Ends of the path:
 * - frames: a WebSocket message arriving on a market-data socket (ws emits "message"; the probe
 *   wraps WebSocket.prototype.emit, so the stamp is taken before the client decodes anything);
 * - written: the execution-engine's dedicated order connection having written an order
 *   (`tradepipe.alpaca.order-written`, right after its socket.write), undici about to write one
 *   (`undici:client:sendHeaders` for POST …/v2/orders, for an order that found no idle
 *   dedicated connection; undici writes the headers and body right after publishing it), or
 *   the raw-socket floor's own stamp (`tradepipe:bench:raw-written`).
 * Inside it (`marks`, by name), without touching the stages' code:
 * - `pub:<topic>` / `recv:<topic>`: the bus core stamping a frame for publication / receiving
 *   one (BusCore.prototype.stamp and .receive wrapped; every transport goes through them), for
 *   md.quote, signal and order.intent;
 * - `audit:start` / `audit:end`: the execution-engine's write-behind batch statement sent /
 *   committed (ExecutionStore.prototype.writeBatch wrapped; the two arrays are index-aligned);
 * - `journal:end`: an execution journal append done (Journal.prototype.append and .appendAll
 *   wrapped);
 * - `origin:order.intent`: each received order intent's header `origin_time_ns` (when the
 *   market-data stage read the tick's frame, on its wall clock), index-aligned with
 *   `recv:order.intent`; with the market-data process's `wallOffsetNs` it names the frame an
 *   order descends from exactly;
 * - `sent`: `tradepipe:execution:order-sent` (postOrder returned);
 * - records: a quote record reaching the market-data stage (`tradepipe:md.record`);
 * Per-event durations: book (`tradepipe:md.book-applied`), indicators / inference
 * (`tradepipe:sb.timing`), risk (`tradepipe:risk.decision`).
 */

import { subscribe } from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import WebSocket from "ws";
import { BusCore, LocalMessage } from "../../../services/core/bus/core.ts";
import type { BusMessage } from "../../../services/core/bus/types.ts";
import { OrderIntentSchema } from "../../../services/core/messages/index.ts";
import { wallClockNs } from "../../../services/core/messages/time.ts";
import { Journal } from "../../../services/execution-engine/journal.ts";
import { ExecutionStore } from "../../../services/execution-engine/store.ts";
import type { BookApplied } from "../../../services/market-data/channels.ts";
import type { RiskDecisionTiming } from "../../../services/risk-manager/channels.ts";
import type { SignalTiming } from "../../../services/signal-bridge/channels.ts";

/** PATH_TOPICS are the bus topics on the tick → order path whose hops the probe stamps. */
export const PATH_TOPICS = ["md.quote", "signal", "order.intent"] as const;

export interface ProbeRecord {
  role: string;
  /** This process's wall clock (header times) minus CLOCK_MONOTONIC, ns. */
  wallOffsetNs: bigint;
  frames: bigint[];
  /** Quote records reaching the market-data stage (after the client decoded the frame). */
  records: bigint[];
  written: bigint[];
  marks: Record<string, bigint[]>;
  book: number[];
  indicators: number[];
  inference: number[];
  risk: number[];
}

export interface Probe extends ProbeRecord {
  clear(): void;
}

let installed: Probe | undefined;

function roleOfProcess(): string {
  const i = process.argv.indexOf("stage");
  if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1]!;
  return process.argv.some((a) => a.includes("pipeline-fused-node")) ? "fused" : "floor";
}

function pathTopicOf(topic: string): string | undefined {
  return PATH_TOPICS.find((t) => topic === t || topic.startsWith(`${t}/`));
}

export function installProbe(): Probe {
  if (installed) return installed;
  const marks: Record<string, bigint[]> = {};
  const mark = (name: string, at: bigint) => {
    const list = marks[name];
    if (list) list.push(at);
    else marks[name] = [at];
  };
  const p: Probe = {
    role: roleOfProcess(),
    wallOffsetNs: wallClockNs() - process.hrtime.bigint(),
    frames: [],
    records: [],
    written: [],
    marks,
    book: [],
    indicators: [],
    inference: [],
    risk: [],
    clear() {
      for (const a of [p.frames, p.records, p.written, p.book, p.indicators, p.inference, p.risk])
        a.length = 0;
      for (const k of Object.keys(marks)) delete marks[k];
    },
  };
  const emit = WebSocket.prototype.emit;
  WebSocket.prototype.emit = function (this: WebSocket, event: string | symbol) {
    if (event === "message" && this.url.includes("/v2/")) p.frames.push(process.hrtime.bigint());
    // biome-ignore lint/complexity/noArguments: forwards whatever ws emits, unchanged
    return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
  } as typeof emit;

  const stamp = BusCore.prototype.stamp;
  BusCore.prototype.stamp = function (this: BusCore, topic, payload, prefix) {
    const at = process.hrtime.bigint();
    const kind = pathTopicOf(topic);
    if (kind) mark(`pub:${kind}`, at);
    return stamp.call(this, topic, payload, prefix);
  };
  // The in-process bus stamps LocalMessages (no frame) and dispatches them directly.
  const local = BusCore.prototype.local;
  BusCore.prototype.local = function <T>(
    this: BusCore,
    topic: string,
    value: T,
    bytes: Uint8Array | ((value: T) => Uint8Array),
  ) {
    const at = process.hrtime.bigint();
    const kind = pathTopicOf(topic);
    if (kind) mark(`pub:${kind}`, at);
    return local.call<
      BusCore,
      [string, T, Uint8Array | ((value: T) => Uint8Array)],
      LocalMessage<T>
    >(this, topic, value, bytes);
  };
  const receive = BusCore.prototype.receive;
  BusCore.prototype.receive = function (this: BusCore, frame: Buffer) {
    const at = process.hrtime.bigint();
    receive.call(this, frame);
    // The topic is read after the handlers ran, so reading it delays nothing downstream.
    const end = frame.indexOf(0);
    const kind = end > 0 ? pathTopicOf(frame.toString("latin1", 0, end)) : undefined;
    if (kind) mark(`recv:${kind}`, at);
    if (kind === "order.intent") {
      const origin = fromBinary(OrderIntentSchema, frame.subarray(end + 1)).header?.originTimeNs;
      mark("origin:order.intent", origin ?? 0n);
    }
  };
  const receiveMessage = BusCore.prototype.receiveMessage;
  BusCore.prototype.receiveMessage = function (this: BusCore, m: BusMessage) {
    // A frame's receive passes here too: marked once, by receive above.
    if (!(m instanceof LocalMessage)) return receiveMessage.call(this, m);
    const at = process.hrtime.bigint();
    receiveMessage.call(this, m);
    const kind = pathTopicOf(m.topic);
    if (kind) mark(`recv:${kind}`, at);
    if (kind === "order.intent") {
      // The in-process intent carries the risk-manager's copy (its bytes are never made).
      const value = m.value as { originTimeNs?: bigint } | undefined;
      const origin =
        value?.originTimeNs ?? fromBinary(OrderIntentSchema, m.payload).header?.originTimeNs;
      mark("origin:order.intent", origin ?? 0n);
    }
  };
  const writeBatch = ExecutionStore.prototype.writeBatch;
  ExecutionStore.prototype.writeBatch = function (this: ExecutionStore, writes) {
    const start = process.hrtime.bigint();
    const done = writeBatch.call(this, writes);
    void done.then(
      () => {
        mark("audit:start", start);
        mark("audit:end", process.hrtime.bigint());
      },
      () => {},
    );
    return done;
  };

  // The raw-socket floor (pipeline-floor-node.ts --raw) stamps its own write.
  subscribe("tradepipe:bench:raw-written", () => p.written.push(process.hrtime.bigint()));
  const append = Journal.prototype.append;
  Journal.prototype.append = function (this: Journal, payload: string) {
    const end = append.call(this, payload);
    mark("journal:end", process.hrtime.bigint());
    return end;
  };
  const appendAll = Journal.prototype.appendAll;
  Journal.prototype.appendAll = function (this: Journal, payloads: readonly string[]) {
    const end = appendAll.call(this, payloads);
    mark("journal:end", process.hrtime.bigint());
    return end;
  };
  subscribe("undici:client:sendHeaders", (m) => {
    const now = process.hrtime.bigint();
    const r = (m as { request: { method: string; path: string } }).request;
    if (r.method === "POST" && r.path.endsWith("/v2/orders")) p.written.push(now);
  });
  // The dedicated order connection stamps right after its socket.write (inside postOrder).
  subscribe("tradepipe.alpaca.order-written", () => p.written.push(process.hrtime.bigint()));
  subscribe("tradepipe:execution:order-sent", () => mark("sent", process.hrtime.bigint()));
  subscribe("tradepipe:md.record", (m) => {
    if ((m as { T?: unknown }).T === "q") p.records.push(process.hrtime.bigint());
  });
  subscribe("tradepipe:md.book-applied", (m) => p.book.push((m as BookApplied).ns));
  subscribe("tradepipe:sb.timing", (m) => {
    const t = m as SignalTiming;
    p.indicators.push(t.indicatorsNs);
    if (t.inferenceNs >= 0) p.inference.push(t.inferenceNs);
  });
  subscribe("tradepipe:risk.decision", (m) => p.risk.push((m as RiskDecisionTiming).ns));
  installed = p;
  return p;
}

/** serialize renders a record as JSON (bigints as strings). */
export function serialize(r: ProbeRecord): string {
  return JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

const big = (a: string[]) => a.map(BigInt);

export function deserialize(text: string): ProbeRecord {
  const raw = JSON.parse(text);
  return {
    role: raw.role,
    wallOffsetNs: BigInt(raw.wallOffsetNs),
    frames: big(raw.frames),
    records: big(raw.records),
    written: big(raw.written),
    marks: Object.fromEntries(
      Object.entries(raw.marks as Record<string, string[]>).map(([k, v]) => [k, big(v)]),
    ),
    book: raw.book,
    indicators: raw.indicators,
    inference: raw.inference,
    risk: raw.risk,
  };
}

const dir = process.env.TRADEPIPE_BENCH_PROBE_DIR;
if (dir) {
  const probe = installProbe();
  process.on("exit", () => {
    writeFileSync(join(dir, `${process.pid}.json`), serialize(probe));
  });
}
