/**
 * attach: routes WebSocket upgrades on the simulator's HTTP server — /stream to trade_updates,
 * /v2/{iex,sip,delayed_sip,test} to market data — and exposes the controls admin and faults use.
 */
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { SimContext, StreamControl } from "../shell/context.ts";
import { DataStreamHub } from "./data-stream.ts";
import { TradeStreamHub } from "./trade-stream.ts";

/** MAX_FRAME_BYTES: frames larger than this are refused by the WebSocket layer (close 1009). */
export const MAX_FRAME_BYTES = 1 << 20;

const DATA_PATH = /^\/v2\/(iex|sip|delayed_sip|test)\/?$/;

export function attachStreams(
  server: http.Server,
  ctx: SimContext,
): StreamControl & { close(): void } {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });
  const trade = new TradeStreamHub(ctx);
  const data = new DataStreamHub(ctx);
  // Accepted connections, cumulative: a client that reconnects shows here even between polls.
  const opened = { trade: 0, data: 0 };
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    const target =
      path === "/stream" || path === "/stream/" ? trade : DATA_PATH.test(path) ? data : undefined;
    if (!target) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      opened[target === trade ? "trade" : "data"]++;
      target.accept(ws, req);
    });
  });
  return {
    disconnect(kind) {
      let n = 0;
      if (kind === "trade" || kind === "all") n += trade.disconnectAll();
      if (kind === "data" || kind === "all") n += data.disconnectAll();
      return n;
    },
    counts: () => ({ trade: trade.conns.size, data: data.conns.size, opened: { ...opened } }),
    close() {
      trade.close();
      data.close();
      wss.close();
    },
  };
}
