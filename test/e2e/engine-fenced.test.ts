/**
 * The running execution-engine's reaction to the database's stale-epoch refusal (TP001), with
 * the stage processes of `tradepipe run`, the simulator and Postgres.
 *
 * A deposed engine learns it from two places: its lease renewal (every second) and the refusal
 * of its next write. This test isolates the second: a trigger added to this test's database
 * refuses the engine's order writes with TP001, exactly as the fencing trigger refuses a
 * deposed leader, while its renewals still succeed. The engine must stop at once: it reports
 * itself fenced (not ready) and nothing it had queued reaches the broker afterwards (an order
 * already on the wire is in its journal, which the next term replays). Then the takeover that such a
 * refusal means is made real (the stage's epoch moves on): the renewal sees it, the instance
 * gives leadership up and is elected again under a newer epoch, rebuilds, and trades again;
 * nothing is lost or sent twice.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { quiesceAndCheck, simState, startBusyRun, waitFor } from "./support.ts";

/** Refuses the engine's order writes with TP001 while test_fence has a row; counts refusals. */
const FENCE_SQL = `
CREATE TABLE test_fence (on_since timestamptz NOT NULL DEFAULT now());
CREATE SEQUENCE test_fence_refusals;
CREATE FUNCTION test_fence_orders() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM test_fence) THEN
    PERFORM nextval('test_fence_refusals'); -- not rolled back with the refused write
    RAISE EXCEPTION 'stale fencing epoch (test fence): % on orders', TG_OP
      USING ERRCODE = 'TP001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_test_fence BEFORE INSERT OR UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION test_fence_orders();`;

test("an engine whose write is refused for a stale epoch stops sending, steps down and is elected again", {
  timeout: 600_000,
}, async () => {
  // The busy pipeline (no cool-down): the engine has work queued when it is refused.
  const { sim, pool, handle, stop, run, close } = await startBusyRun("engine-fenced");
  const epoch = async () =>
    Number(
      (
        await pool.query<{ epoch: string }>(
          "SELECT epoch FROM stage_leadership WHERE stage = 'execution-engine'",
        )
      ).rows[0]?.epoch ?? 0,
    );
  const engine = () =>
    handle()!
      .status()
      .stages.find((s) => s.name === "execution-engine")!;
  try {
    const h = await waitFor("the pipeline to start", 60_000, handle);
    await waitFor("every stage ready", 180_000, () =>
      h.status().stages.every((s) => s.up && s.ready),
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(h.status().stages)}`);
    });
    await waitFor("the first fill", 90_000, () => simState(sim).fills.length > 0);
    const pid = h.pid("execution-engine");
    const firstEpoch = await epoch();
    await pool.query(FENCE_SQL);

    // The fence goes up: the engine's next order write is refused.
    await pool.query("INSERT INTO test_fence DEFAULT VALUES");
    await waitFor("the engine to report itself fenced", 60_000, () =>
      /fenced/.test(engine().detail ?? "") ? true : undefined,
    );
    const refusals = async () =>
      Number(
        (await pool.query<{ n: string }>("SELECT last_value AS n FROM test_fence_refusals"))
          .rows[0]!.n,
      );
    assert.ok((await refusals()) >= 1, "the engine's write was refused");
    assert.equal(engine().ready, false, "a fenced engine is not ready");
    assert.equal(h.pid("execution-engine"), pid, "it steps down in place (no crash)");

    // Nothing is sent once the refusal is known. The order path is journal-ahead: an order may
    // be on the wire before its row (the refused write can be its own), and its record waits in
    // the journal for the next term to replay; quiesceAndCheck below finds every broker order in
    // the database. What a fenced engine must not do is send anything new: with the busy
    // pipeline several intents reach it each second, and the broker hears of none of them.
    const askedAtFence = simState(sim).order_requests.length;
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(
      simState(sim).order_requests.length,
      askedAtFence,
      "orders sent after the engine knew it was fenced",
    );
    assert.equal(engine().ready, false, "still fenced");

    // The takeover the refusal stands for: the epoch moves on and the fence comes down.
    await pool.query(
      "UPDATE stage_leadership SET epoch = epoch + 1, holder = 'test: another instance' WHERE stage = 'execution-engine'",
    );
    const takenOver = await epoch();
    await pool.query("DELETE FROM test_fence");
    await waitFor("the engine to be elected again under a newer epoch", 60_000, async () =>
      (await epoch()) > takenOver ? true : undefined,
    );
    assert.ok(takenOver > firstEpoch);
    await waitFor("the engine ready again", 90_000, () => (engine().ready ? true : undefined));
    const before = simState(sim).order_requests.length;
    await waitFor("an order after the new election", 120_000, () =>
      simState(sim).order_requests.length > before ? true : undefined,
    );
    await quiesceAndCheck({ pool, sim, handle: h, stop, run });
  } finally {
    await close();
  }
});
