/**
 * Operator leader election on a real apiserver: two operator processes elect one leader; only
 * the leader reconciles; a killed leader's Lease is taken over once it expires; a stopped
 * leader releases its Lease for an immediate hand-over.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ControlPlane } from "../cluster/controlplane.ts";
import {
  applyYaml,
  createNamespace,
  getJson,
  type Json,
  OPERATOR_NAMESPACE,
  type OperatorProcess,
  samplePipeline,
  startClusterWithOperatorRbac,
  startOperatorProcess,
  waitFor,
} from "./support.ts";

const NS = "trading";
let cluster: ControlPlane;
let saKubeconfig: string;
const operators: OperatorProcess[] = [];

async function holder(): Promise<string | undefined> {
  const lease = await getJson(cluster, ["lease", "tradepipe-operator", "-n", OPERATOR_NAMESPACE]);
  return lease.spec?.holderIdentity || undefined;
}

function leadingLines(op: OperatorProcess): number {
  return op
    .logs()
    .split("\n")
    .filter((l) => l.includes('"leading: reconciling"')).length;
}

async function reconciledGeneration(name: string, generation: number) {
  await waitFor(`${name} reconciled at generation ${generation}`, async () => {
    const tp: Json = await getJson(cluster, ["tp", name, "-n", NS]);
    return tp.metadata.generation === generation && tp.status?.observedGeneration === generation;
  });
}

describe("operator leader election", { timeout: 300_000 }, () => {
  before(async () => {
    const started = await startClusterWithOperatorRbac();
    cluster = started.cluster;
    saKubeconfig = started.saKubeconfig;
    await createNamespace(cluster, NS);
  });
  after(async () => {
    for (const op of operators) await op.stop();
    await cluster?.stop();
  });

  test("two operators elect one leader, and only it reconciles", async () => {
    operators.push(
      startOperatorProcess(saKubeconfig, "op-a"),
      startOperatorProcess(saKubeconfig, "op-b"),
    );
    const first = await waitFor("a leader", holder);
    assert.ok(first === "op-a" || first === "op-b");
    await applyYaml(
      cluster,
      samplePipeline("alpha", NS, { database: { instances: 1, synchronous: false } }),
    );
    await reconciledGeneration("alpha", 1);
    const [a, b] = operators as [OperatorProcess, OperatorProcess];
    assert.equal(leadingLines(a) + leadingLines(b), 1, "exactly one replica ever led");
    const leader = first === "op-a" ? a : b;
    assert.equal(leadingLines(leader), 1);
  });

  test("killing the leader hands over once its Lease expires", async () => {
    const before = await holder();
    const leader = operators.find((o) => o.identity === before) as OperatorProcess;
    const standby = operators.find((o) => o.identity !== before) as OperatorProcess;
    const killedAt = Date.now();
    await leader.kill();
    const next = await waitFor(
      "a new leader",
      async () => {
        const h = await holder();
        return h && h !== before ? h : undefined;
      },
      60_000,
      50,
    );
    const takeoverMs = Date.now() - killedAt;
    process.stdout.write(
      `# takeover after SIGKILL: ${takeoverMs} ms (lease 15 s + retry 2-2.4 s after the last renewal)\n`,
    );
    assert.equal(next, standby.identity);
    await cluster.kubectl([
      "patch",
      "tp",
      "alpha",
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"killSwitch":true}}',
    ]);
    await reconciledGeneration("alpha", 2);
    const lease = await getJson(cluster, ["lease", "tradepipe-operator", "-n", OPERATOR_NAMESPACE]);
    assert.ok(
      Number(lease.metadata.annotations["tradepipe.io/fencing-epoch"]) >= 2,
      "a takeover bumps the epoch",
    );
    assert.ok(lease.spec.leaseTransitions >= 1);
  });

  test("a leader stopped with SIGTERM releases its Lease and the standby takes over", async () => {
    const current = await holder();
    const running = operators.find((o) => o.identity === current) as OperatorProcess;
    const standby = startOperatorProcess(saKubeconfig, "op-c");
    operators.push(standby);
    await waitFor("op-c caches synced", async () => standby.logs().includes("caches synced"));
    const code = await running.stop();
    assert.equal(code, 0);
    const after = await waitFor(
      "op-c leads",
      async () => ((await holder()) === "op-c" ? "op-c" : undefined),
      20_000,
      50,
    );
    assert.equal(after, "op-c");
    await cluster.kubectl([
      "patch",
      "tp",
      "alpha",
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"killSwitch":false}}',
    ]);
    await reconciledGeneration("alpha", 3);
  });
});
