/**
 * server: the control listener of a stage process, where the routes that change something live
 * (e.g. `POST /kill-switch`). It is never the health/metrics server: that one is scraped and
 * probed by anyone who can reach it, this one admits only an authenticated caller.
 *
 * Two ways to listen, each with its own way to know who is calling:
 * - a Unix socket (one host: `tradepipe run`, systemd): the socket is created mode 0600 in a
 *   directory its user owns and nobody else may write, so only that user (and root) can connect;
 *   the caller is that user (`unix:<name>`);
 * - TCP (pods): every request carries a bearer token that an `Authenticator` turns into a
 *   principal or refuses (kube-auth.ts: TokenReview + SubjectAccessReview).
 *
 * Every mutating request must also be `Content-Type: application/json` and must not come from a
 * browser page of another origin: no HTML form or cross-site `fetch` can send it (a form cannot
 * set that content type without a CORS preflight this server never answers).
 */
import { chmodSync, lstatSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { userInfo } from "node:os";
import { dirname } from "node:path";
import { TradepipeError } from "../errors.ts";

/** Principal: the authenticated caller, as written to the audit trail. */
export interface Principal {
  /** e.g. `unix:trader`, `kube:system:serviceaccount:trading:ops`. */
  name: string;
}

export type ControlHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal,
) => void | Promise<void>;

/** Authenticator: a principal, or the reason the caller is refused (401 or 403). */
export type Authenticator = (
  req: IncomingMessage,
) => Promise<{ principal: Principal } | { status: 401 | 403; error: string }>;

export interface ControlServerOptions {
  /** Routes keyed "METHOD /path"; read at every request, so stages may add theirs later. */
  routes: Record<string, ControlHandler>;
  /** A Unix socket path: the caller is the socket's owner. */
  socketPath?: string;
  /** Or TCP, with an authenticator for every request. */
  tcp?: { host: string; port: number; authenticate: Authenticator };
}

export interface ControlServer {
  /** `unix:<path>` or `http://host:port`. */
  address: string;
  close(): Promise<void>;
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** startControlServer listens on the socket or the port and resolves once bound. */
export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  if (!opts.socketPath === !opts.tcp) {
    throw new TradepipeError("TP_ERR_CONFIG", "control server: give either socketPath or tcp");
  }
  let authenticate: Authenticator;
  if (opts.socketPath) {
    checkSocketDirectory(opts.socketPath);
    const principal = { name: `unix:${userInfo().username}` };
    authenticate = async () => ({ principal });
  } else {
    authenticate = opts.tcp!.authenticate;
  }
  let ownOrigin = "";
  const server = createServer((req, res) => {
    serve(req, res, opts.routes, authenticate, ownOrigin).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (err as Error)?.message ?? String(err) });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  if (opts.socketPath) {
    const path = opts.socketPath;
    await listen(server, (done) => server.listen(path, done));
    // The directory admits nobody else, so nobody connects before this narrows the mode.
    chmodSync(path, 0o600);
    return { address: `unix:${path}`, close: () => closeServer(server, path) };
  }
  const { host, port } = opts.tcp!;
  await listen(server, (done) => server.listen(port, host, done));
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  ownOrigin = `http://${urlHost}:${bound}`;
  return { address: ownOrigin, close: () => closeServer(server) };
}

/**
 * checkSocketDirectory refuses a socket directory another user owns or may write: such a user
 * could replace the socket with their own and read what clients send, or connect first.
 * A stale socket of ours (a crashed run) is removed; anything else at the path is refused.
 */
export function checkSocketDirectory(socketPath: string): void {
  const dir = dirname(socketPath);
  const uid = process.getuid?.() ?? 0;
  const st = lstatSync(dir);
  if (!st.isDirectory()) {
    throw new TradepipeError("TP_ERR_CONFIG", `control socket directory ${dir}: not a directory`);
  }
  if (st.uid !== uid) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `control socket directory ${dir}: owned by uid ${st.uid}, not by this user (uid ${uid})`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `control socket directory ${dir}: mode ${(st.mode & 0o777).toString(8)} lets others write it (want 0700 or 0750)`,
    );
  }
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(socketPath);
  } catch {
    return;
  }
  if (!existing.isSocket() || existing.uid !== uid) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `control socket ${socketPath}: something else is already there (not our socket)`,
    );
  }
  rmSync(socketPath);
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Record<string, ControlHandler>,
  authenticate: Authenticator,
  ownOrigin: string,
): Promise<void> {
  const method = req.method ?? "GET";
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const refusal = requestRefusal(req, ownOrigin);
  if (refusal) return sendJson(res, refusal.status, { error: refusal.error });
  const auth = await authenticate(req);
  if (!("principal" in auth)) {
    if (auth.status === 401) res.setHeader("www-authenticate", 'Bearer realm="tradepipe"');
    return sendJson(res, auth.status, { error: auth.error });
  }
  const handler = routes[`${method} ${path}`];
  if (!handler) return sendJson(res, 404, { error: `${method} ${path}: not found` });
  return handler(req, res, auth.principal);
}

/**
 * requestRefusal: why a request is refused before anyone looks at its credentials, or null.
 * A browser sends `Origin` (and `Sec-Fetch-Site`) with every cross-site POST; a command-line
 * client sends neither. The only origin allowed is the listener's own.
 */
export function requestRefusal(
  req: IncomingMessage,
  ownOrigin: string,
): { status: number; error: string } | null {
  const origin = req.headers.origin;
  if (origin !== undefined && (ownOrigin === "" || origin !== ownOrigin)) {
    return { status: 403, error: `Origin ${origin}: cross-origin requests are refused` };
  }
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return { status: 403, error: `Sec-Fetch-Site ${site}: cross-site requests are refused` };
  }
  if (MUTATING.has(req.method ?? "")) {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") {
      return {
        status: 415,
        error: `Content-Type ${type || "(none)"}: must be application/json`,
      };
    }
  }
  return null;
}

const MAX_BODY = 64 * 1024;

/** readJsonBody reads at most 64 KiB and parses it. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  res.end(`${JSON.stringify(body)}\n`);
}

function listen(server: Server, start: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    start(() => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server, socketPath?: string): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => {
      if (socketPath) rmSync(socketPath, { force: true });
      resolve();
    });
    server.closeAllConnections();
  });
}
