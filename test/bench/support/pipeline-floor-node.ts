/**
 * pipeline-floor-node: one process of the benchmark's bare floor, the same transports as the
 * pipeline with no logic in between:
 *   ws-in   — market-data WebSocket in (msgpack, quotes); forwards each frame's bytes
 *   relay   — Unix socket in → Unix socket out, bytes unchanged
 *   http-out — Unix socket in (or, alone, the WebSocket) → an order POST through undici
 * `node pipeline-floor-node.ts <role> <json options>`; options: listen (socket path to serve),
 * next (socket path to forward to), sim (simulator base URL), keyId, secretKey, symbol.
 * The fused floor is `http-out` with no `listen`: WebSocket in, HTTP out, in one process.
 */
import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { Pool } from "undici";
import WebSocket from "ws";

interface Options {
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
    const body = JSON.stringify({
      symbol: opts.symbol,
      qty: "1",
      side: n % 2 === 0 ? "sell" : "buy",
      type: "market",
      time_in_force: "day",
      client_order_id: `floor-${process.pid}-${n}`,
    });
    pool.request({ method: "POST", path: "/v2/orders", headers, body }).then(
      (r) => r.body.dump(),
      () => {},
    );
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
  const write = orderWriter();
  if (opts.listen) (await listen(opts.listen))(() => write());
  else marketData(() => write());
}
process.on("message", (m: { type?: string }) => {
  if (m.type === "stop") process.exit(0);
});
process.on("disconnect", () => process.exit(0));
