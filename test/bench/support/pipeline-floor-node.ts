/**
 * pipeline-floor-node: one process of the benchmark's bare floor, the same transports as the
 * pipeline with no logic in between:
 *   ws-in   — market-data WebSocket in (msgpack, quotes); forwards each frame's bytes
 *   relay   — Unix socket in → Unix socket out, bytes unchanged
 *   http-out — Unix socket in (or, alone, the WebSocket) → an order POST through undici
 * `node pipeline-floor-node.ts <role> <json options>`; options: listen (socket path to serve),
 * next (socket path to forward to), sim (simulator base URL), keyId, secretKey, symbol.
 * The fused floor is `http-out` with no `listen`: WebSocket in, HTTP out, in one process; with
 * `raw: true` the POST is a pre-built request written on a kept-alive socket instead of undici.
 */
import diagnostics from "node:diagnostics_channel";
import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { Pool } from "undici";
import WebSocket from "ws";

interface Options {
  /** raw: the order goes out as a pre-built request on a kept-alive socket, not through undici. */
  raw?: boolean;
  listen?: string;
  next?: string;
  sim: string;
  keyId: string;
  secretKey: string;
  symbol: string;
}

const role = process.argv[2] as "ws-in" | "relay" | "http-out";
const opts = JSON.parse(process.argv[3] ?? "{}") as Options;

/** framed writes 4-byte little-endian lengths before each message. */
function sender(sock: Socket): (b: Buffer) => void {
  return (b) => {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(b.length, 0);
    sock.cork();
    sock.write(head);
    sock.write(b);
    sock.uncork();
  };
}

function receiver(sock: Socket, onMessage: (b: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  sock.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const n = pending.readUInt32LE(0);
      if (pending.length < 4 + n) break;
      onMessage(pending.subarray(4, 4 + n));
      pending = pending.subarray(4 + n);
    }
  });
}

async function dial(path: string): Promise<Socket> {
  for (let i = 0; ; i++) {
    try {
      const s = createConnection(path);
      await once(s, "connect");
      return s;
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

async function listen(path: string): Promise<(onMessage: (b: Buffer) => void) => void> {
  const server = createServer();
  server.listen(path);
  await once(server, "listening");
  process.send?.({ type: "listening" });
  const [sock] = (await once(server, "connection")) as [Socket];
  return (onMessage) => receiver(sock, onMessage);
}

function marketData(onFrame: (b: Buffer) => void): void {
  const ws = new WebSocket(`${opts.sim.replace(/^http/, "ws")}/v2/iex`, {
    headers: {
      "Content-Type": "application/msgpack",
      "APCA-API-KEY-ID": opts.keyId,
      "APCA-API-SECRET-KEY": opts.secretKey,
    },
    perMessageDeflate: false,
  });
  let subscribed = false;
  ws.on("message", (data: Buffer) => {
    if (subscribed) return onFrame(data);
    // Handshake frames ("connected", "authenticated", the subscription) come before any quote.
    const text = data.toString("latin1");
    if (text.includes("authenticated")) {
      ws.send(JSON.stringify({ action: "subscribe", quotes: [opts.symbol] }));
    } else if (text.includes("subscription")) {
      subscribed = true;
      process.send?.({ type: "ready" });
    }
  });
}

/** orderBody: the n-th floor order (1 share, alternating sides, a client_order_id of its own). */
function orderBody(n: number): string {
  return JSON.stringify({
    symbol: opts.symbol,
    qty: "1",
    side: n % 2 === 0 ? "sell" : "buy",
    type: "market",
    time_in_force: "day",
    client_order_id: `floor-${process.pid}-${n}`,
  });
}

function orderWriter(): () => void {
  const pool = new Pool(opts.sim, { connections: 1, pipelining: 1 });
  const headers = {
    "content-type": "application/json",
    "apca-api-key-id": opts.keyId,
    "apca-api-secret-key": opts.secretKey,
  };
  let n = 0;
  return () => {
    n++;
    const body = orderBody(n);
    pool.request({ method: "POST", path: "/v2/orders", headers, body }).then(
      (r) => r.body.dump(),
      () => {},
    );
  };
}

/**
 * rawOrderWriter: one kept-alive TCP connection, a request template built once (method, path,
 * host, keys); per order only the body and its length are filled in and the bytes written with
 * one `socket.write`. It keeps the guard undici's idle-socket check gives: a byte arriving while
 * no request is in flight, or the server closing the socket, is an error (the connection is
 * dropped and made again), so a stray response can never be taken for the next order's answer.
 */
async function rawOrderWriter(): Promise<() => void> {
  const url = new URL(opts.sim);
  const head =
    "POST /v2/orders HTTP/1.1\r\n" +
    `host: ${url.host}\r\n` +
    "content-type: application/json\r\n" +
    `apca-api-key-id: ${opts.keyId}\r\n` +
    `apca-api-secret-key: ${opts.secretKey}\r\n` +
    "connection: keep-alive\r\n" +
    "content-length: ";
  const written = diagnostics.channel("tradepipe:bench:raw-written");
  let sock: Socket;
  let inFlight = 0;
  let pending = "";
  const connectNow = async () => {
    sock = createConnection(Number(url.port), url.hostname);
    sock.setNoDelay(true);
    await once(sock, "connect");
    sock.on("data", (chunk: Buffer) => {
      if (inFlight === 0) {
        sock.destroy(new Error("bytes on a connection with no request in flight"));
        return;
      }
      pending += chunk.toString("latin1");
      // Each answer is headers + a Content-Length body; count whole answers.
      for (;;) {
        const end = pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        const m = /content-length: *(\d+)/i.exec(pending.slice(0, end));
        const total = end + 4 + Number(m?.[1] ?? 0);
        if (pending.length < total) return;
        pending = pending.slice(total);
        inFlight--;
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      inFlight = 0;
      pending = "";
      void connectNow();
    });
  };
  await connectNow();
  let n = 0;
  return () => {
    n++;
    const body = orderBody(n);
    inFlight++;
    sock.write(`${head}${Buffer.byteLength(body)}\r\n\r\n${body}`, "latin1");
    if (written.hasSubscribers) written.publish(null);
  };
}

if (role === "ws-in") {
  const send = sender(await dial(opts.next!));
  marketData(send);
} else if (role === "relay") {
  const on = await listen(opts.listen!);
  const send = sender(await dial(opts.next!));
  on(send);
} else {
  const write = opts.raw ? await rawOrderWriter() : orderWriter();
  if (opts.listen) (await listen(opts.listen))(() => write());
  else marketData(() => write());
}
process.on("message", (m: { type?: string }) => {
  if (m.type === "stop") process.exit(0);
});
process.on("disconnect", () => process.exit(0));
