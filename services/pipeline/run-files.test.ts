/**
 * Run files under a directory another user could have prepared: a pre-created run directory
 * (another owner, a wide mode, a symlink) is refused, a pre-created file or symlink is never
 * written through, and a foreign run file is never believed.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  checkPrivateDir,
  liveRuns,
  makePrivateDir,
  runStateDir,
  writeNewPrivateFile,
} from "./run-files.ts";

const base = mkdtempSync(join(tmpdir(), "tp-runfiles-"));
after(() => rmSync(base, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

test("the run-state directory is never a shared one", () => {
  assert.equal(runStateDir({ TRADEPIPE_DATA_DIR: "/d" }), "/d/run");
  assert.equal(runStateDir({ XDG_RUNTIME_DIR: "/run/user/1000" }), "/run/user/1000/tradepipe");
  const fallback = runStateDir({ HOME: "/home/u" });
  assert.ok(!fallback.startsWith(tmpdir()), `${fallback} is under ${tmpdir()}`);
  assert.ok(!fallback.startsWith("/tmp"), fallback);
});

test("a pre-created run directory of another user, or with a wide mode, or a symlink, is refused", () => {
  // Another owner: as root, a directory given to nobody; otherwise /tmp itself (root's).
  let foreign = "/tmp";
  if (isRoot) {
    foreign = join(base, "foreign");
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, NOBODY, NOBODY);
  }
  assert.throws(() => checkPrivateDir(foreign), /owned by uid \d+, not by this user/);

  const wide = join(base, "wide", "run");
  mkdirSync(wide, { recursive: true });
  chmodSync(wide, 0o777);
  assert.throws(() => makePrivateDir(join(wide, "runs")), /has mode 777, not 700/);

  const target = join(base, "elsewhere");
  mkdirSync(target, { mode: 0o700 });
  const link = join(base, "linked");
  mkdirSync(link);
  symlinkSync(target, join(link, "run"));
  assert.throws(() => makePrivateDir(join(link, "run", "runs")), /not a directory/);

  // `tradepipe kill-switch` refuses to read run files from such a directory.
  const env = { TRADEPIPE_DATA_DIR: join(base, "wide") };
  chmodSync(wide, 0o700);
  mkdirSync(join(wide, "runs"), { mode: 0o755 });
  assert.throws(() => liveRuns(env), /has mode 755/);
});

test("a pre-created file or symlink is never written through; a foreign run file is ignored", () => {
  const dir = join(base, "own", "run", "runs");
  makePrivateDir(dir);
  const victim = join(base, "victim.txt");
  writeFileSync(victim, "untouched");
  const linked = join(dir, "1.json");
  symlinkSync(victim, linked);
  assert.throws(() => writeNewPrivateFile(linked, "{}"), /EEXIST/);
  assert.equal(readFileSync(victim, "utf8"), "untouched");
  const planted = join(dir, "2.json");
  writeFileSync(planted, "planted");
  assert.throws(() => writeNewPrivateFile(planted, "{}"), /EEXIST/);
  rmSync(linked);
  rmSync(planted);

  // A run file that is a symlink to a file naming a live pid: not believed.
  const elsewhere = join(base, "evil.json");
  writeFileSync(
    elsewhere,
    JSON.stringify({ pid: process.pid, pipeline: "evil", databaseUrl: "postgres://evil/db" }),
  );
  symlinkSync(elsewhere, join(dir, `${process.pid}.json`));
  assert.deepEqual(liveRuns({ TRADEPIPE_DATA_DIR: join(base, "own") }), []);
  rmSync(join(dir, `${process.pid}.json`));
  if (isRoot) {
    // A regular file of another user, in a directory of ours (e.g. planted before a chown).
    const foreignFile = join(dir, `${process.pid}.json`);
    writeFileSync(foreignFile, readFileSync(elsewhere));
    chownSync(foreignFile, NOBODY, NOBODY);
    assert.deepEqual(liveRuns({ TRADEPIPE_DATA_DIR: join(base, "own") }), []);
    rmSync(foreignFile);
  }
  writeNewPrivateFile(
    join(dir, `${process.pid}.json`),
    JSON.stringify({ pid: process.pid, pipeline: "mine", databaseUrl: "postgres://me/db" }),
  );
  assert.deepEqual(
    liveRuns({ TRADEPIPE_DATA_DIR: join(base, "own") }).map((r) => r.pipeline),
    ["mine"],
  );
});
