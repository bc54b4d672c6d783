/** A frame larger than the cap drops the connection (and the socket reconnects); smaller ones arrive. */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { WebSocketServer } from "ws";
import { ReconnectingSocket } from "./reconnecting-socket.ts";

test("a frame past maxPayload closes the connection instead of being buffered", async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  let connections = 0;
  wss.on("connection", (ws) => {
    connections++;
    ws.send("small");
    if (connections === 1) ws.send(Buffer.alloc(256 * 1024, 97).toString());
  });
  const frames: string[] = [];
  const disconnects: string[] = [];
  const socket = new ReconnectingSocket({
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    stallTimeoutMs: 0,
    pongsAreLife: false,
    handshakeTimeoutMs: 2_000,
    maxPayloadBytes: 64 * 1024,
    backoff: { initialMs: 1, maxMs: 5 },
    onOpen: () => socket.markReady(),
    onFrame: (data) => frames.push(String(data)),
    onDisconnect: (reason) => disconnects.push(reason),
  });
  t.after(async () => {
    await socket.close();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  socket.start();
  for (let i = 0; i < 200 && connections < 2; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(connections, 2, "reconnected after the oversized frame");
  assert.ok(
    frames.every((f) => f === "small"),
    "the big frame never reached the owner",
  );
  assert.match(disconnects[0] ?? "", /Max payload size exceeded|1009/);
});
