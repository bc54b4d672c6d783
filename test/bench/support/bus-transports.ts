/**
 * The transports the bus benchmark compares, each as the smallest "send bytes / get bytes" link
 * between two processes: the raw Unix-socket and raw ZeroMQ floors, and the buses themselves.
 * Every variant moves payloads of the same size; the raw ones send bytes shaped like a bus frame.
 */
import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { Publisher, Subscriber } from "zeromq";
import { openBus } from "../../../services/core/bus/open.ts";

export type Variant = "uds-raw" | "zmq-raw" | "zmq-bus" | "uds-bus" | "zmq-curve";
export const VARIANTS: readonly Variant[] = ["uds-raw", "zmq-raw", "zmq-bus", "uds-bus"];
/** Every variant `--variants` accepts; `zmq-curve` (the bus with CURVE on) is opt-in. */
export const ALL_VARIANTS: readonly Variant[] = [...VARIANTS, "zmq-curve"];

/** BENCH_CURVE: a fixed pair both benchmark processes share (benchmark use only). */
const BENCH_CURVE = {
  publicKey: "ww:pI74@ml&bN.@lvCtpKYSCt4OY^IX&{VjaU.j}",
  secretKey: "U(c/KhcIa]MHa1#.#um@CEynE3u$2tzj64b[E2Rs",
};

/** Link is one side of a duplex connection; `listen` sides are started before `dial` sides. */
export interface Link {
  send(payload: Buffer): void;
  onMessage(handler: (payload: Buffer) => void): void;
  close(): Promise<void>;
}

/** Endpoints a side uses: `own` is what it binds or listens on, `peer` what it dials. */
export interface LinkPlan {
  variant: Variant;
  own: string;
  peer: string;
  /** Size of a bus frame's overhead (topic + terminator + stamp), added to raw payloads. */
  frameOverhead: number;
}

const BENCH_TOPIC = "bench.ping";

export async function openLink(plan: LinkPlan, side: "listen" | "dial"): Promise<Link> {
  switch (plan.variant) {
    case "uds-raw":
      return openUdsRaw(plan, side);
    case "zmq-raw":
      return openZmqRaw(plan);
    case "zmq-bus":
      return openBusLink(plan, "ipc");
    case "uds-bus":
      return openBusLink(plan, "unix");
    case "zmq-curve":
      return openBusLink(plan, "ipc", true);
  }
}

/** Unix socket with a 4-byte little-endian length before each message. */
async function openUdsRaw(plan: LinkPlan, side: "listen" | "dial"): Promise<Link> {
  let server: Server | undefined;
  let socket: Socket;
  if (side === "listen") {
    server = createServer();
    server.listen(plan.own);
    await once(server, "listening");
    [socket] = (await once(server, "connection")) as [Socket];
  } else {
    socket = await dialRetry(plan.peer);
  }
  socket.setNoDelay?.(true);
  let handler: (payload: Buffer) => void = () => {};
  let pending: Buffer | undefined;
  socket.on("data", (chunk: Buffer) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= 4) {
      const len = buf.readUInt32LE(at);
      if (buf.length - at - 4 < len) break;
      handler(buf.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    pending = at === buf.length ? undefined : buf.subarray(at);
    buf = Buffer.alloc(0);
  });
  return {
    send(payload) {
      const frame = Buffer.allocUnsafe(4 + payload.length + plan.frameOverhead);
      frame.writeUInt32LE(payload.length + plan.frameOverhead, 0);
      payload.copy(frame, 4);
      frame.fill(0, 4 + payload.length);
      socket.write(frame);
    },
    onMessage(h) {
      handler = h;
    },
    async close() {
      socket.destroy();
      server?.close();
    },
  };
}

async function dialRetry(path: string): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    try {
      const socket = createConnection(path);
      await once(socket, "connect");
      return socket;
    } catch (error) {
      if (attempt > 500) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Raw zeromq PUB/SUB with the bus's socket options, one frame per message. */
async function openZmqRaw(plan: LinkPlan): Promise<Link> {
  const pub = new Publisher({ sendTimeout: 0, sendHighWaterMark: 1_000_000, linger: 0 });
  await pub.bind(`ipc://${plan.own}`);
  const sub = new Subscriber({ receiveHighWaterMark: 1_000_000, linger: 0 });
  sub.connect(`ipc://${plan.peer}`);
  sub.subscribe();
  let handler: (payload: Buffer) => void = () => {};
  const loop = (async () => {
    while (!sub.closed) {
      try {
        const [frame] = await sub.receive();
        handler(frame!);
      } catch {
        return;
      }
    }
  })();
  return {
    send(payload) {
      const frame = Buffer.allocUnsafe(payload.length + plan.frameOverhead);
      payload.copy(frame);
      frame.fill(0, payload.length);
      pub.send(frame).catch(() => {});
    },
    onMessage(h) {
      handler = h;
    },
    async close() {
      pub.close();
      sub.close();
      await loop;
    },
  };
}

async function openBusLink(plan: LinkPlan, scheme: "ipc" | "unix", curve = false): Promise<Link> {
  const bus = await openBus({
    bind: [`${scheme}://${plan.own}`],
    connect: [`${scheme}://${plan.peer}`],
    highWaterMark: 1_000_000,
    ...(curve ? { curve: BENCH_CURVE } : {}),
  });
  return {
    send(payload) {
      bus.publish(BENCH_TOPIC, payload);
    },
    onMessage(h) {
      bus.subscribe([BENCH_TOPIC], (m) =>
        h(Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength)),
      );
    },
    close: () => bus.close(),
  };
}

/** BUS_FRAME_OVERHEAD is what a bus frame adds to a payload on the benchmark topic. */
export const BUS_FRAME_OVERHEAD = BENCH_TOPIC.length + 1 + 29;
