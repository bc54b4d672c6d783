/**
 * The control listener refuses what a browser page or another user could send: a foreign
 * Origin or cross-site fetch, a body that is not JSON, a caller without a credential; its Unix
 * socket is 0600 and is never made in a directory another user owns or may write.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { callControl } from "./client.ts";
import { type ControlHandler, startControlServer } from "./server.ts";

const base = mkdtempSync(join(tmpdir(), "tp-control-"));
after(() => rmSync(base, { recursive: true, force: true }));

const echo: Record<string, ControlHandler> = {
  "POST /echo": (_req, res, principal) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ principal: principal.name }));
  },
};

function raw(
  where: { socketPath: string } | { port: number },
  headers: Record<string, string>,
  body = "{}",
): Promise<number> {
  const target =
    "socketPath" in where
      ? { socketPath: where.socketPath }
      : { host: "127.0.0.1", port: where.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path: "/echo", method: "POST", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("a Unix socket: mode 0600, its user is the principal, browser-style requests refused", async () => {
  const dir = join(base, "own");
  mkdirSync(dir, { mode: 0o700 });
  const socketPath = join(dir, "c.sock");
  const server = await startControlServer({ routes: echo, socketPath });
  try {
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    const ok = await callControl({ socketPath }, "POST", "/echo", { requestedBy: "mallory" });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.principal, `unix:${userInfo().username}`);
    const json = { "content-type": "application/json" };
    assert.equal(await raw({ socketPath }, { "content-type": "text/plain" }), 415);
    assert.equal(await raw({ socketPath }, {}), 415);
    assert.equal(
      await raw({ socketPath }, { ...json, "content-type": "application/x-www-form-urlencoded" }),
      415,
    );
    assert.equal(await raw({ socketPath }, { ...json, origin: "https://evil.example" }), 403);
    assert.equal(await raw({ socketPath }, { ...json, origin: "null" }), 403);
    assert.equal(await raw({ socketPath }, { ...json, "sec-fetch-site": "cross-site" }), 403);
    assert.equal(await raw({ socketPath }, json), 200);
  } finally {
    await server.close();
  }
});

test("a socket directory another user owns or may write, or a foreign file at the path, is refused", async () => {
  if (process.getuid?.() === 0) {
    const foreign = join(base, "foreign");
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, 65534, 65534);
    await assert.rejects(
      startControlServer({ routes: echo, socketPath: join(foreign, "c.sock") }),
      /owned by uid 65534, not by this user/,
    );
  } else {
    await assert.rejects(
      startControlServer({ routes: echo, socketPath: "/tmp/tp-not-mine.sock" }),
      /not by this user|lets others write/,
    );
  }
  const wide = join(base, "wide");
  mkdirSync(wide);
  chmodSync(wide, 0o777);
  await assert.rejects(
    startControlServer({ routes: echo, socketPath: join(wide, "c.sock") }),
    /mode 777 lets others write it/,
  );
  const planted = join(base, "planted");
  mkdirSync(planted, { mode: 0o700 });
  writeFileSync(join(planted, "c.sock"), "");
  await assert.rejects(
    startControlServer({ routes: echo, socketPath: join(planted, "c.sock") }),
    /something else is already there/,
  );
});

test("TCP: every request needs the authenticator's yes; Origin and Content-Type are checked first", async () => {
  let asked = 0;
  const server = await startControlServer({
    routes: echo,
    tcp: {
      host: "127.0.0.1",
      port: 0,
      authenticate: async (req) => {
        asked++;
        return req.headers.authorization === "Bearer good"
          ? { principal: { name: "kube:ops" } }
          : { status: 401, error: "no" };
      },
    },
  });
  try {
    const port = Number(new URL(server.address).port);
    const json = { "content-type": "application/json" };
    assert.equal(await raw({ port }, json), 401);
    assert.equal(await raw({ port }, { ...json, authorization: "Bearer bad" }), 401);
    const before = asked;
    assert.equal(
      await raw(
        { port },
        { ...json, authorization: "Bearer good", origin: "https://evil.example" },
      ),
      403,
    );
    assert.equal(
      await raw({ port }, { "content-type": "text/plain", authorization: "Bearer good" }),
      415,
    );
    assert.equal(asked, before, "refused before any token review");
    const ok = await callControl({ url: server.address, token: "good" }, "POST", "/echo", {});
    assert.equal(ok.status, 200);
    assert.equal(ok.body.principal, "kube:ops");
  } finally {
    await server.close();
  }
});
