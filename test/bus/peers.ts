/** startPeer runs test/bus/peer.ts in a child Node process (the same Node 24 as the test). */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PeerCommand, PeerConfig } from "./peer.ts";

const PEER = fileURLToPath(new URL("./peer.ts", import.meta.url));

export interface Peer {
  child: ChildProcess;
  /** next resolves with the next IPC message of `type` (queued if it already arrived). */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  send(command: PeerCommand): void;
  /** kill SIGKILLs the peer, as a crash would, and waits for it to exit. */
  kill(): Promise<void>;
}

export function startPeer(config: PeerConfig): Peer {
  const child = fork(PEER, [JSON.stringify(config)], {
    execPath: process.execPath,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const inbox: Array<{ type: string }> = [];
  const waiters: Array<{ type: string; resolve: (m: unknown) => void }> = [];
  child.on("message", (message: { type: string }) => {
    const i = waiters.findIndex((w) => w.type === message.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(message);
    else inbox.push(message);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    next<T>(type: string, timeoutMs = 15_000): Promise<T> {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`peer ${config.role}: no '${type}' within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m as T);
          },
        });
      });
    },
    send(command) {
      child.send(command);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
