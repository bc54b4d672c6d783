/**
 * UdsBus: the bus over Unix domain sockets (`unix:///path/to.sock`), for stages on one host when
 * latency matters most. A publisher listens on its socket path; each subscriber connects, sends
 * its filters, and receives only matching frames (fan-out with publisher-side filtering, as
 * ZeroMQ PUB/SUB does). No broker and no I/O thread: one write system call per message per
 * subscriber, read on the subscriber's own event loop. test/bench/README.md has the figures.
 *
 * Wire: every frame is a 4-byte little-endian length, then a body. Publisher → subscriber bodies
 * are bus frames (frame.ts). Subscriber → publisher bodies are 0x01 + filter (subscribe) or
 * 0x00 + filter (unsubscribe), the filter in its wire form (wireFilter).
 *
 * IMPORTANT: publish never waits. While a subscriber's socket has unsent data, frames for it are
 * buffered in memory up to `highWaterMark` frames; beyond that they are dropped for that
 * subscriber (counted in `stats().dropped`) and it sees a sequence gap.
 */
import { existsSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { TradepipeError } from "../errors.ts";
import { BusCore } from "./core.ts";
import { wireFilter } from "./filters.ts";
import { FrameReader } from "./length-frames.ts";
import type {
  Bus,
  BusHandler,
  BusOptions,
  BusStats,
  StreamPosition,
  Subscription,
} from "./types.ts";

export interface UdsBusOptions extends BusOptions {
  /** Socket paths to listen on as `unix:///absolute/path.sock`. */
  bind?: readonly string[];
  /** Publisher sockets to subscribe to. */
  connect?: readonly string[];
  /** Frames buffered per subscriber while its socket is backed up; default 100,000. */
  highWaterMark?: number;
  /** First reconnect delay in ms (doubling up to `reconnectMaxInterval`); default 100. */
  reconnectInterval?: number;
  reconnectMaxInterval?: number;
}

interface Downstream {
  socket: Socket;
  filters: Buffer[];
  /** Per topic: does any filter match? Cleared when the filters change. */
  wants: Map<string, boolean>;
  /** Frames written since the socket's user-space buffer was last empty. */
  backlog: number;
}

interface Upstream {
  path: string;
  socket: Socket | undefined;
  timer: NodeJS.Timeout | undefined;
  delay: number;
  wanted: boolean;
}

const SUBSCRIBE = 1;
const UNSUBSCRIBE = 0;

/** socketPath returns the file path of a `unix://` endpoint, or fails naming the endpoint. */
export function socketPath(endpoint: string): string {
  if (!endpoint.startsWith("unix://") || endpoint.length <= "unix://".length) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `bus endpoint ${JSON.stringify(endpoint)}: expected unix:///path/to/socket`,
    );
  }
  return endpoint.slice("unix://".length);
}

export class UdsBus implements Bus {
  readonly #core: BusCore;
  readonly #servers: Server[] = [];
  readonly #downstream = new Set<Downstream>();
  readonly #upstream = new Map<string, Upstream>();
  readonly #filters = new Map<string, Buffer>();
  readonly #highWaterMark: number;
  readonly #reconnectInterval: number;
  readonly #reconnectMax: number;
  readonly #endpoints: string[] = [];

  /** open listens on `bind` and starts connecting to `connect`. */
  static async open(options: UdsBusOptions): Promise<UdsBus> {
    const bus = new UdsBus(options);
    try {
      for (const endpoint of options.bind ?? []) await bus.#listen(endpoint);
    } catch (error) {
      await bus.close();
      throw error;
    }
    for (const endpoint of options.connect ?? []) bus.connect(endpoint);
    return bus;
  }

  private constructor(options: UdsBusOptions) {
    this.#highWaterMark = options.highWaterMark ?? 100_000;
    this.#reconnectInterval = options.reconnectInterval ?? 100;
    this.#reconnectMax = options.reconnectMaxInterval ?? 2000;
    this.#core = new BusCore(options, {
      added: (f) => {
        const wire = wireFilter(f);
        this.#filters.set(f.text, wire);
        for (const up of this.#upstream.values()) sendControl(up.socket, SUBSCRIBE, wire);
      },
      removed: (f) => {
        const wire = this.#filters.get(f.text);
        this.#filters.delete(f.text);
        if (!wire) return;
        for (const up of this.#upstream.values()) sendControl(up.socket, UNSUBSCRIBE, wire);
      },
    });
  }

  get publisherId(): number {
    return this.#core.publisherId;
  }

  get endpoints(): readonly string[] {
    return this.#endpoints;
  }

  publish(topic: string, payload: Uint8Array): number {
    const { frame, sequence } = this.#core.stamp(topic, payload, 4);
    frame.writeUInt32LE(frame.length - 4, 0);
    for (const down of this.#downstream) {
      let wants = down.wants.get(topic);
      if (wants === undefined) {
        wants = down.filters.some((f) => frame.compare(f, 0, f.length, 4, 4 + f.length) === 0);
        down.wants.set(topic, wants);
      }
      if (!wants) continue;
      // Everything written so far reached the kernel: nothing is backed up. ('drain' alone is
      // not enough: Node emits it only after a write crossed the stream's byte high-water mark.)
      if (down.socket.writableLength === 0) down.backlog = 0;
      else if (down.backlog >= this.#highWaterMark) {
        this.#core.countDropped();
        continue;
      }
      down.socket.write(frame);
      if (down.socket.writableLength > 0) down.backlog++;
    }
    return sequence;
  }

  subscribe(filters: readonly string[], handler: BusHandler): Subscription {
    return this.#core.subscribe(filters, handler);
  }

  /** connect subscribes to another publisher socket, reconnecting until `disconnect`. */
  connect(endpoint: string): void {
    const path = socketPath(endpoint);
    if (this.#upstream.has(path)) return;
    const up: Upstream = {
      path,
      socket: undefined,
      timer: undefined,
      delay: this.#reconnectInterval,
      wanted: true,
    };
    this.#upstream.set(path, up);
    this.#dial(up);
  }

  disconnect(endpoint: string): void {
    const up = this.#upstream.get(socketPath(endpoint));
    if (!up) return;
    this.#upstream.delete(up.path);
    up.wanted = false;
    clearTimeout(up.timer);
    up.socket?.destroy();
  }

  stats(): BusStats {
    return this.#core.stats();
  }

  positions(): StreamPosition[] {
    return this.#core.positions();
  }

  async close(): Promise<void> {
    if (this.#core.closed) return;
    this.#core.closed = true;
    for (const path of [...this.#upstream.keys()]) this.disconnect(`unix://${path}`);
    for (const down of this.#downstream) down.socket.destroy();
    this.#downstream.clear();
    await Promise.all(
      this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }

  async #listen(endpoint: string): Promise<void> {
    const path = socketPath(endpoint);
    if (existsSync(path)) {
      if (await isLive(path)) {
        throw new TradepipeError("TP_ERR_CONFIG", `bus: ${endpoint} is in use by a live publisher`);
      }
      unlinkSync(path); // left behind by a publisher that crashed
    }
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) =>
        reject(
          new TradepipeError(
            "TP_ERR_CONFIG",
            `bus: cannot listen on ${endpoint}: ${error.message}`,
            { cause: error },
          ),
        ),
      );
      server.listen(path, () => resolve());
    });
    this.#servers.push(server);
    this.#endpoints.push(endpoint);
  }

  #accept(socket: Socket): void {
    if (this.#core.closed) {
      socket.destroy();
      return;
    }
    const down: Downstream = { socket, filters: [], wants: new Map(), backlog: 0 };
    this.#downstream.add(down);
    const reader = new FrameReader((body) => {
      const filter = Buffer.from(body.subarray(1));
      const at = down.filters.findIndex((f) => f.equals(filter));
      if (body[0] === SUBSCRIBE && at < 0) down.filters.push(filter);
      else if (body[0] === UNSUBSCRIBE && at >= 0) down.filters.splice(at, 1);
      down.wants.clear();
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
    socket.on("error", () => {}); // 'close' follows
    socket.on("close", () => this.#downstream.delete(down));
  }

  #dial(up: Upstream): void {
    const socket = createConnection(up.path);
    const reader = new FrameReader((frame) => this.#core.receive(frame));
    socket.on("connect", () => {
      up.socket = socket;
      up.delay = this.#reconnectInterval;
      for (const wire of this.#filters.values()) sendControl(socket, SUBSCRIBE, wire);
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
    socket.on("error", () => {}); // 'close' follows
    socket.on("close", () => {
      if (up.socket === socket) up.socket = undefined;
      if (!up.wanted || this.#core.closed) return;
      up.timer = setTimeout(() => this.#dial(up), up.delay);
      up.delay = Math.min(up.delay * 2, this.#reconnectMax);
    });
  }
}

function sendControl(socket: Socket | undefined, op: number, filter: Buffer): void {
  if (!socket) return;
  const body = Buffer.allocUnsafe(5 + filter.length);
  body.writeUInt32LE(1 + filter.length, 0);
  body[4] = op;
  filter.copy(body, 5);
  socket.write(body);
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
