/**
 * peer: a bus endpoint in its own process for the cross-process tests, driven over the Node IPC
 * channel. argv[2] is a JSON PeerConfig. A subscriber says `ready` once a heartbeat arrives
 * (its subscriptions have reached the publisher) and records every other message; a publisher
 * sends heartbeats every 5 ms and publishes on request.
 */
import { renameSync, writeFileSync } from "node:fs";
import { openBus } from "../../services/core/bus/open.ts";
import { Topics } from "../../services/core/bus/topics.ts";
import type { BusMessage, StreamPosition } from "../../services/core/bus/types.ts";

export interface PeerConfig {
  role: "subscriber" | "publisher";
  endpoint: string;
  filters?: string[];
  resumeFrom?: StreamPosition[];
  /** Subscriber: write positions() here after every message, as a stage persists its state. */
  persistTo?: string;
  /** Subscriber: busy-wait this long per message, to be a slow consumer. */
  slowMicros?: number;
  highWaterMark?: number;
}

export type PeerCommand =
  | { type: "report" }
  | { type: "publish"; topic: string; count: number }
  | { type: "disconnect" }
  | { type: "connect" };

/** Received is [topic, sequence, index carried in the payload]. */
export type Received = [string, number, number];

const config = JSON.parse(process.argv[2] ?? "{}") as PeerConfig;
const send = (message: unknown) => process.send?.(message);

function busyWait(micros: number): void {
  const until = process.hrtime.bigint() + BigInt(micros * 1000);
  while (process.hrtime.bigint() < until) {
    // A consumer that falls behind.
  }
}

if (config.role === "subscriber") {
  const gaps: Array<[string, number]> = [];
  const bus = await openBus({
    connect: [config.endpoint],
    observer: { gap: (topic, missing) => gaps.push([topic, missing]) },
    ...(config.resumeFrom ? { resumeFrom: config.resumeFrom } : {}),
    ...(config.highWaterMark ? { highWaterMark: config.highWaterMark } : {}),
  });
  const received: Received[] = [];
  let ready = false;
  bus.subscribe([...(config.filters ?? ["*"]), Topics.heartbeat], (m: BusMessage) => {
    if (m.topic === Topics.heartbeat) {
      if (!ready) send({ type: "ready" });
      ready = true;
      return;
    }
    received.push([m.topic, m.sequence, Buffer.from(m.payload).readUInt32BE(0)]);
    if (config.slowMicros) busyWait(config.slowMicros);
    if (config.persistTo) {
      // Atomically, as a stage would: a kill mid-write must not leave a torn file behind.
      writeFileSync(`${config.persistTo}.tmp`, JSON.stringify(bus.positions()));
      renameSync(`${config.persistTo}.tmp`, config.persistTo);
    }
  });
  process.on("message", (command: PeerCommand) => {
    if (command.type === "report") {
      send({ type: "report", received, gaps, stats: bus.stats(), positions: bus.positions() });
    } else if (command.type === "disconnect") {
      bus.disconnect(config.endpoint);
      send({ type: "disconnected" });
    } else if (command.type === "connect") {
      bus.connect(config.endpoint);
      send({ type: "connected" });
    }
  });
  process.on("disconnect", () => void bus.close().then(() => process.exit(0)));
} else {
  const bus = await openBus({
    bind: [config.endpoint],
    ...(config.highWaterMark ? { highWaterMark: config.highWaterMark } : {}),
  });
  const beat = Buffer.alloc(4);
  const timer = setInterval(() => bus.publish(Topics.heartbeat, beat), 5);
  let index = 0;
  process.on("message", (command: PeerCommand) => {
    if (command.type !== "publish") return;
    let last = 0;
    for (let i = 0; i < command.count; i++) {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(index++);
      last = bus.publish(command.topic, payload);
    }
    send({ type: "published", last, publisherId: bus.publisherId });
  });
  process.on("disconnect", () => {
    clearInterval(timer);
    void bus.close().then(() => process.exit(0));
  });
  send({ type: "bound", publisherId: bus.publisherId });
}
