import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ancestorsOf,
  defaultDataDir,
  embeddedUrl,
  firstUnsearchableDir,
} from "./embedded-paths.ts";

test("defaultDataDir: TRADEPIPE_DATA_DIR, then XDG_DATA_HOME, then ~/.local/share; root gets /var/lib", () => {
  assert.equal(
    defaultDataDir({ TRADEPIPE_DATA_DIR: "/srv/tp" }, "/home/a", 1000),
    "/srv/tp/postgres",
  );
  assert.equal(defaultDataDir({ TRADEPIPE_DATA_DIR: "/srv/tp" }, "/root", 0), "/srv/tp/postgres");
  assert.equal(defaultDataDir({ XDG_DATA_HOME: "/x" }, "/home/a", 1000), "/x/tradepipe/postgres");
  assert.equal(defaultDataDir({}, "/home/a", 1000), "/home/a/.local/share/tradepipe/postgres");
  assert.equal(defaultDataDir({}, "/root", 0), "/var/lib/tradepipe/postgres");
});

test("ancestorsOf lists every parent from the root down", () => {
  assert.deepEqual(ancestorsOf("/a/b/c"), ["/", "/a", "/a/b"]);
  assert.deepEqual(ancestorsOf("/a"), ["/"]);
});

test("firstUnsearchableDir finds the directory the server's user cannot enter", () => {
  const pgUser = { uid: 101, gids: [104] };
  const chain = [
    { path: "/", mode: 0o755, uid: 0, gid: 0 },
    { path: "/root", mode: 0o700, uid: 0, gid: 0 },
  ];
  assert.equal(firstUnsearchableDir(chain, pgUser), "/root");
  const open = [
    { path: "/", mode: 0o755, uid: 0, gid: 0 },
    { path: "/tmp", mode: 0o1777, uid: 0, gid: 0 },
    { path: "/tmp/own", mode: 0o700, uid: 101, gid: 104 },
    { path: "/tmp/grp", mode: 0o710, uid: 0, gid: 104 },
  ];
  assert.equal(firstUnsearchableDir(open, pgUser), undefined);
});

test("embeddedUrl escapes the password and asks for a verified TLS server", () => {
  const url = embeddedUrl({
    user: "tradepipe",
    password: "a/b@c",
    port: 5433,
    database: "tradepipe",
    caFile: "/data/my dir/tls/ca.crt",
  });
  assert.equal(
    url,
    "postgres://tradepipe:a%2Fb%40c@127.0.0.1:5433/tradepipe?sslmode=verify-full&sslrootcert=%2Fdata%2Fmy%20dir%2Ftls%2Fca.crt",
  );
  const params = new URL(url).searchParams;
  assert.equal(params.get("sslrootcert"), "/data/my dir/tls/ca.crt");
});
