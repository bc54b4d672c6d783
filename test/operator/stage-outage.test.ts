/**
 * A stage whose database goes away says so on Kubernetes: a real execution-engine process, run
 * in its pod's place (the pod's Lease, name and namespace, its ServiceAccount's token; kwok runs
 * no container), starts while its Postgres is stopped; the TradingPipeline's StagesReady
 * condition then quotes the stage's own sentence ("execution-engine: database unreachable since
 * …: …ECONNREFUSED…"), and once Postgres is started again the condition no longer does.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { stringify } from "yaml";
import { DEV_KEYS, type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import { migrate } from "../../services/core/db/migrate.ts";
import { OUTAGE_ANNOTATION_PREFIX } from "../../services/pipeline/lease-outage-report.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import {
  applyYaml,
  createNamespace,
  getJson,
  type Json,
  type OperatorProcess,
  ROOT,
  samplePipeline,
  startClusterWithOperatorRbac,
  startOperatorProcess,
  waitFor,
} from "./support.ts";

const NS = "trading";
const POD = "alpha-execution-engine-0";
let cluster: ControlPlane;
let operator: OperatorProcess;
let dir: string;
let sim: Simulator;
let server: EmbeddedPostgres | undefined;

async function stagesReady(): Promise<Json | undefined> {
  const tp = await getJson(cluster, ["tp", "alpha", "-n", NS]);
  return tp.status?.conditions?.find((c: Json) => c.type === "StagesReady");
}

describe("a stage's database outage on the TradingPipeline's status", { timeout: 600_000 }, () => {
  before(async () => {
    const started = await startClusterWithOperatorRbac();
    cluster = started.cluster;
    operator = startOperatorProcess(started.saKubeconfig, "operator-0");
    await createNamespace(cluster, NS);
    await applyYaml(
      cluster,
      samplePipeline("alpha", NS, { database: { instances: 1, synchronous: false } }),
    );
    dir = await mkdtemp(join("/tmp", "tp-outage-"));
    await chmod(dir, 0o755);
    sim = await startSimulator({ seed: 3, symbols: ["AAPL"], clock: "manual" });
  });
  after(async () => {
    await sim?.close();
    await server?.stop();
    const code = await operator?.stop();
    if (code !== 0) process.stderr.write(operator.logs().slice(-4000));
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("StagesReady quotes 'execution-engine: database unreachable since …' and clears when it is back", async () => {
    // A migrated cluster, then stopped: the stage starts against a port where nothing listens.
    const dataDir = join(dir, "postgres");
    server = await startEmbeddedPostgres({ dataDir, stopOnSignals: false, durable: false });
    const admin = new pg.Pool({ connectionString: server.url, max: 1 });
    admin.on("error", () => {});
    await migrate(admin);
    await admin.end();
    const { url, port } = server;
    await server.stop();
    server = undefined;

    await waitFor(`the pod ${POD}`, () => getJson(cluster, ["pod", POD, "-n", NS]));
    await waitFor("the stage Lease", () =>
      getJson(cluster, ["lease", "alpha-execution-engine", "-n", NS]),
    );
    const kubeconfig = await cluster.createServiceAccountKubeconfig(NS, "alpha-execution-engine");
    const specFile = join(dir, "pipeline.yaml");
    await writeFile(
      specFile,
      stringify({
        apiVersion: "tradepipe.io/v1alpha1",
        kind: "TradingPipeline",
        metadata: { name: "alpha", namespace: NS },
        spec: { symbols: ["AAPL"], broker: { kind: "simulator" } },
      }),
    );
    const runDir = join(dir, "run");
    await mkdir(runDir, { mode: 0o700 });
    const child: ChildProcess = spawn(
      process.execPath,
      [`${ROOT}bin/tradepipe.ts`, "stage", "execution-engine", "-f", specFile],
      {
        env: {
          ...process.env,
          DATABASE_URL: url,
          TRADEPIPE_RUN_DIR: runDir,
          TRADEPIPE_HEALTH_PORT: "0",
          TRADEPIPE_SIM_URL: sim.tradingUrl,
          APCA_API_KEY_ID: DEV_KEYS.keyId,
          APCA_API_SECRET_KEY: DEV_KEYS.secretKey,
          // What the operator gives the pod (stage-pod.ts), with the stage's own token.
          POD_NAME: POD,
          POD_NAMESPACE: NS,
          TRADEPIPE_STAGE_LEASE: "alpha-execution-engine",
          TRADEPIPE_KUBECONFIG: kubeconfig,
          KUBECONFIG: kubeconfig,
          TRADEPIPE_LOG_LEVEL: "info",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout?.on("data", (d: Buffer) => (output += d));
    child.stderr?.on("data", (d: Buffer) => (output += d));
    const exited = once(child, "exit");
    try {
      const down = await waitFor(
        "StagesReady quoting the outage",
        async () => {
          const c = await stagesReady();
          return c?.reason === "DatabaseUnreachable" && c;
        },
        90_000,
      );
      assert.equal(down.status, "False");
      assert.match(
        down.message,
        /^execution-engine: database unreachable since \d{4}-\d\d-\d\dT\S+Z: .*ECONNREFUSED/,
      );
      const tp = await getJson(cluster, ["tp", "alpha", "-n", NS]);
      const ready = tp.status.conditions.find((c: Json) => c.type === "Ready");
      assert.match(ready.message, /execution-engine: database unreachable since/);
      const lease = await getJson(cluster, ["lease", "alpha-execution-engine", "-n", NS]);
      assert.equal(
        lease.metadata.annotations[`${OUTAGE_ANNOTATION_PREFIX}${POD}`],
        down.message.slice("execution-engine: ".length),
        "the operator quotes what the stage wrote on its Lease",
      );

      server = await startEmbeddedPostgres({ dataDir, port, stopOnSignals: false, durable: false });
      await waitFor(
        "the outage gone from StagesReady",
        async () => {
          const c = await stagesReady();
          return c !== undefined && c.reason !== "DatabaseUnreachable";
        },
        90_000,
      );
      const after = await getJson(cluster, ["lease", "alpha-execution-engine", "-n", NS]);
      assert.equal(after.metadata.annotations?.[`${OUTAGE_ANNOTATION_PREFIX}${POD}`], undefined);
      assert.match(output, /leading the stage/, "the stage led once its database was back");
    } catch (err) {
      process.stderr.write(output.slice(-4000));
      throw err;
    } finally {
      if (child.exitCode === null) child.kill("SIGTERM");
      const bound = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(bound);
    }
  });
});
