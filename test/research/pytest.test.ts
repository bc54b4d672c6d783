/**
 * The research project's Python tests (research/tests: purged walk-forward CV, the
 * float32-threshold parity of the ONNX export, training with an Optuna study in the test
 * Postgres) run here, inside `npm test`, in the venv research/setup.sh builds from
 * research/requirements.lock (cached by the lock's hash; .ci/run builds it before the suite).
 * A failure shows pytest's own output.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "../support/pg.ts";

const RESEARCH = fileURLToPath(new URL("../../research/", import.meta.url));

it("research/tests pass under pytest in the pinned venv", async () => {
  // The Optuna study test writes its tables into a database of its own on the test server.
  const db = await createTestDatabase();
  after(() => db.drop());
  const setup = spawnSync(`${RESEARCH}setup.sh`, [], { encoding: "utf8" });
  assert.equal(setup.status, 0, `research/setup.sh failed:\n${setup.stdout}\n${setup.stderr}`);
  const venv = setup.stdout.trim().split("\n").at(-1)!;
  const run = spawnSync(`${venv}/bin/python`, ["-m", "pytest", "-p", "no:cacheprovider"], {
    cwd: RESEARCH,
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: "1", TRADEPIPE_TEST_DATABASE_URL: db.url },
  });
  assert.equal(run.status, 0, `pytest failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /passed/);
});
