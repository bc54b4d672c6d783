/**
 * zap: the ZeroMQ authentication handler (ZAP, RFC 27) behind CURVE publishers. libzmq asks the
 * handler bound at `inproc://zeromq.zap.01` in the socket's context about every CURVE client
 * handshake; without a handler it admits any client that knows the server's public key. So a
 * CURVE publisher registers its allow-list here BEFORE it binds, under its own ZAP domain, and
 * the handler answers 200 only for a CURVE client whose public key is on that domain's list.
 *
 * One handler serves every bus of the process (one inproc endpoint per context); it runs while
 * at least one domain is registered and is closed with the last one, so it never keeps a
 * process alive.
 */
import { randomBytes } from "node:crypto";
import { context as defaultContext, Router } from "zeromq";
import { z85Encode } from "./curve.ts";

const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const ZAP_VERSION = "1.0";

/** ZapDecision is what the handler decided for one handshake (for logs and tests). */
export interface ZapDecision {
  domain: string;
  address: string;
  mechanism: string;
  clientKey?: string;
  allowed: boolean;
}

type Listener = (decision: ZapDecision) => void;

interface Domain {
  allowed: ReadonlySet<string>;
  onDecision?: Listener;
}

const domains = new Map<string, Domain>();
let router: Router | undefined;
let loop: Promise<void> | undefined;

/** decide answers one ZAP request (frames after the routing id and delimiter). Pure. */
export function decideZap(request: readonly Buffer[]): {
  reply: Buffer[];
  decision: ZapDecision;
} {
  const text = (i: number) => request[i]?.toString("latin1") ?? "";
  const requestId = request[1] ?? Buffer.alloc(0);
  const domain = text(2);
  const address = text(3);
  const mechanism = text(5);
  const credential = request[6];
  const clientKey =
    mechanism === "CURVE" && credential?.length === 32 ? z85Encode(credential) : undefined;
  const entry = domains.get(domain);
  const allowed =
    text(0) === ZAP_VERSION && clientKey !== undefined && entry?.allowed.has(clientKey) === true;
  const reply = [
    Buffer.from(ZAP_VERSION),
    requestId,
    Buffer.from(allowed ? "200" : "400"),
    Buffer.from(allowed ? "OK" : "client key not allowed"),
    Buffer.from(allowed ? (clientKey ?? "") : ""),
    Buffer.alloc(0),
  ];
  return {
    reply,
    decision: { domain, address, mechanism, ...(clientKey ? { clientKey } : {}), allowed },
  };
}

async function serve(socket: Router): Promise<void> {
  for (;;) {
    let frames: Buffer[];
    try {
      frames = await socket.receive();
    } catch {
      return; // closed
    }
    // Router frames: routing id, empty delimiter (libzmq's ZAP client speaks like REQ), request.
    const [routingId, delimiter, ...request] = frames;
    if (!routingId || !delimiter) continue;
    const { reply, decision } = decideZap(request);
    try {
      await socket.send([routingId, Buffer.alloc(0), ...reply]);
    } catch {
      return;
    }
    domains.get(decision.domain)?.onDecision?.(decision);
  }
}

async function startHandler(): Promise<void> {
  const socket = new Router({ context: defaultContext, linger: 0 });
  // A handler closed a moment ago may still hold the endpoint while libzmq reaps it.
  for (let attempt = 1; ; attempt++) {
    try {
      await socket.bind(ZAP_ENDPOINT);
      break;
    } catch (err) {
      if (attempt >= 50 || (err as { code?: string }).code !== "EADDRINUSE") {
        socket.close();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  router = socket;
  loop = serve(socket);
}

let starting: Promise<void> | undefined;

/**
 * registerZapDomain allows `clientKeys` (Z85) for a new ZAP domain and returns the domain (set
 * it as the publisher's `zapDomain`) and a function that removes it again. The handler is
 * bound before this resolves, so a socket bound afterwards is never without it.
 */
export async function registerZapDomain(
  clientKeys: readonly string[],
  onDecision?: Listener,
): Promise<{ domain: string; unregister: () => Promise<void> }> {
  const domain = `tradepipe-bus-${randomBytes(8).toString("hex")}`;
  domains.set(domain, { allowed: new Set(clientKeys), ...(onDecision ? { onDecision } : {}) });
  if (!router) {
    starting ??= startHandler().finally(() => {
      starting = undefined;
    });
    try {
      await starting;
    } catch (err) {
      domains.delete(domain);
      throw err;
    }
  }
  return {
    domain,
    async unregister() {
      domains.delete(domain);
      if (domains.size > 0 || !router) return;
      const socket = router;
      router = undefined;
      socket.close();
      await loop;
    },
  };
}
