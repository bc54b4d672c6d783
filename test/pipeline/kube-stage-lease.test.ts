/**
 * A stage pod's side of the operator's Lease handshake, on a real kube-apiserver and Postgres:
 * the operator's kill-switch annotation engages the kill switch in the database, the halt is
 * acknowledged only once no order is open, and withdrawing the request releases both.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { createLogger } from "../../services/core/telemetry/index.ts";
import { startKubeStageLease } from "../../services/pipeline/kube-lease.ts";
import { type ControlPlane, startControlPlane } from "../cluster/controlplane.ts";
import { waitFor } from "../e2e/support.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

const LEASE = "alpha-execution-engine";
let cluster: ControlPlane;
let db: TestDatabase;
let pool: pg.Pool;

before(async () => {
  [cluster, db] = await Promise.all([startControlPlane({ nodes: [] }), withMigratedDatabase()]);
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => {});
  await cluster.kubectl(["apply", "-f", "-"], {
    input: `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: ${LEASE}, namespace: default}\nspec: {}\n`,
  });
});

after(async () => {
  await pool?.end();
  await db?.drop();
  await cluster?.stop();
});

async function annotations(): Promise<Record<string, string>> {
  const r = await cluster.kubectl(["get", "lease", LEASE, "-n", "default", "-o", "json"]);
  return (JSON.parse(r.stdout).metadata.annotations ?? {}) as Record<string, string>;
}

async function killSwitchEngaged(): Promise<boolean> {
  const { rows } = await pool.query("SELECT kill_switch_engaged FROM risk_state WHERE id = 1");
  return rows[0].kill_switch_engaged as boolean;
}

test("the Lease's kill-switch annotation engages the kill switch in the database; the halt is acknowledged only once no order is open", async () => {
  // An open order (no stage leads yet, so epoch 0 passes the fencing check).
  await pool.query(
    `INSERT INTO orders (client_order_id, correlation_id, symbol, side, order_type, qty, status, fencing_epoch)
     VALUES ('tp-test-1', 'c1', 'AAPL', 'buy', 'limit', 1, 'new', 0)`,
  );
  // The bridge's pool, counting its open-order checks: each is a chance to acknowledge too early.
  let openOrderChecks = 0;
  const countingPool = new Proxy(pool, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      if (key === "query") {
        return (...args: unknown[]) => {
          if (typeof args[0] === "string" && /FROM orders WHERE status IN/.test(args[0]))
            openOrderChecks++;
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  const lease = await startKubeStageLease({
    db: countingPool,
    log: createLogger({ name: "test", level: "silent" }),
    env: {
      TRADEPIPE_STAGE_LEASE: LEASE,
      POD_NAMESPACE: "default",
      POD_NAME: "alpha-execution-engine-0",
    },
    kubeconfigPath: cluster.kubeconfigPath,
    haltTimeoutMs: 60_000,
  });
  assert.ok(lease, "started when TRADEPIPE_STAGE_LEASE is set");
  try {
    await waitFor("the stage to hold the Lease", 20_000, async () => {
      const r = await cluster.kubectl([
        "get",
        "lease",
        LEASE,
        "-n",
        "default",
        "-o",
        "jsonpath={.spec.holderIdentity}",
      ]);
      return r.stdout === "alpha-execution-engine-0";
    });
    await cluster.kubectl([
      "annotate",
      "lease",
      LEASE,
      "-n",
      "default",
      "tradepipe.io/kill-switch=engaged",
    ]);
    await waitFor("the kill switch engaged in the database", 20_000, killSwitchEngaged);
    // Not acknowledged while an order is still open: looked at once the bridge has found the
    // order open twice after the switch was engaged, so it has had the chance to answer wrongly.
    const checksAtEngage = openOrderChecks;
    await waitFor(
      "two open-order checks (or an early acknowledgement)",
      20_000,
      async () =>
        openOrderChecks >= checksAtEngage + 2 ||
        (await annotations())["tradepipe.io/halted"] !== undefined,
    );
    assert.equal((await annotations())["tradepipe.io/halted"], undefined);

    await pool.query("UPDATE orders SET status = 'cancelled' WHERE client_order_id = 'tp-test-1'");
    const halted = await waitFor(
      "the halt acknowledged",
      20_000,
      async () => (await annotations())["tradepipe.io/halted"],
    );
    assert.match(halted, /^\d+$/, "acknowledged with the stage's epoch");

    await cluster.kubectl([
      "annotate",
      "lease",
      LEASE,
      "-n",
      "default",
      "tradepipe.io/kill-switch-",
    ]);
    await waitFor("the kill switch released", 20_000, async () => !(await killSwitchEngaged()));
    await waitFor(
      "the acknowledgement withdrawn",
      20_000,
      async () => (await annotations())["tradepipe.io/halted"] === undefined,
    );
  } finally {
    await lease?.stop();
  }
});

test("without TRADEPIPE_STAGE_LEASE (outside Kubernetes) nothing starts", async () => {
  const lease = await startKubeStageLease({
    db: pool,
    log: createLogger({ name: "test", level: "silent" }),
    env: {},
  });
  assert.equal(lease, null);
});
