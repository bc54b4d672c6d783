/**
 * support: a real control plane with the CRD and the operator's RBAC installed, the operator
 * run as its own process with its ServiceAccount's token, and small polling helpers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { LABEL_COMPONENT, LABEL_DB_ROLE } from "../../operator/api/names.ts";
import type { KubeObject } from "../../operator/kube/apply.ts";
import { Informer } from "../../operator/kube/informer.ts";
import { RESOURCES, resourcePath } from "../../operator/kube/resources.ts";
import { createKubeClient, loadKubeConfig, MERGE_PATCH } from "../../services/core/kube/client.ts";
import { toMicroTime } from "../../services/core/kube/lease-record.ts";
import {
  type ControlPlane,
  type ControlPlaneOptions,
  startControlPlane,
} from "../cluster/controlplane.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const OPERATOR_NAMESPACE = "tradepipe-system";

/**
 * keepNodeLeasesFresh renews each node's Lease in kube-node-lease every 10 s, as a kubelet does.
 * Workaround: kwok runs without --node-lease-duration-seconds, so it keeps no node Leases and
 * heartbeats node status only every 10-20 minutes; the node lifecycle controller then finds
 * every node NotReady after its 50 s grace period, marks every pod Ready=False, and kwok never
 * marks them Ready again. Remove once test/cluster starts kwok with node leases.
 */
export async function keepNodeLeasesFresh(cluster: ControlPlane): Promise<() => Promise<void>> {
  const client = await createKubeClient(loadKubeConfig(cluster.kubeconfigPath));
  const path = (name?: string) => resourcePath(RESOURCES.Lease, "kube-node-lease", name);
  const renew = async () => {
    const now = toMicroTime(Date.now());
    await Promise.all(
      cluster.nodes.map(async (node) => {
        const spec = { holderIdentity: node.name, leaseDurationSeconds: 40, renewTime: now };
        try {
          await client.request("PATCH", path(node.name), {
            body: { spec },
            contentType: MERGE_PATCH,
          });
        } catch (err) {
          if ((err as { status?: number }).status !== 404) throw err;
          await client.request("POST", path(), {
            body: {
              apiVersion: "coordination.k8s.io/v1",
              kind: "Lease",
              metadata: { name: node.name },
              spec,
            },
          });
        }
      }),
    );
  };
  await renew();
  const timer = setInterval(() => void renew().catch(() => {}), 10_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await client.close();
  };
}

/** startClusterWithOperatorRbac: control plane + CRD + operator RBAC; returns the SA kubeconfig. */
export async function startClusterWithOperatorRbac(options: ControlPlaneOptions = {}) {
  const started = await startControlPlane(options);
  const stopLeases = await keepNodeLeasesFresh(started);
  const cluster: ControlPlane = {
    ...started,
    stop: async () => {
      await stopLeases();
      await started.stop();
    },
  };
  try {
    await cluster.kubectl(["apply", "--server-side", "-f", `${ROOT}crds/`]);
    await cluster.kubectl(["apply", "-f", `${ROOT}operator/rbac/operator-rbac.yaml`]);
    await cluster.kubectl([
      "wait",
      "--for=condition=Established",
      "crd/tradingpipelines.tradepipe.io",
      "--timeout=30s",
    ]);
    const saKubeconfig = await cluster.createServiceAccountKubeconfig(
      OPERATOR_NAMESPACE,
      "tradepipe-operator",
    );
    return { cluster, saKubeconfig };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

export interface OperatorProcess {
  child: ChildProcess;
  identity: string;
  logs(): string;
  /** stop sends SIGTERM (clean: releases the Lease) and waits for the exit code. */
  stop(): Promise<number | null>;
  /** kill sends SIGKILL (a crash: the Lease must expire). */
  kill(): Promise<void>;
}

export function startOperatorProcess(
  kubeconfig: string,
  identity: string,
  extraArgs: string[] = [],
): OperatorProcess {
  const child = spawn(
    process.execPath,
    [
      `${ROOT}bin/tradepipe.ts`,
      "operator",
      "--kubeconfig",
      kubeconfig,
      "--lease-namespace",
      OPERATOR_NAMESPACE,
      "--identity",
      identity,
      "--health-port",
      "0",
      "--health-host",
      "127.0.0.1",
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        TRADEPIPE_LOG_LEVEL: process.env.TRADEPIPE_TEST_OPERATOR_LOG_LEVEL ?? "info",
      },
    },
  );
  // A test process that dies without stopping its operators must not leave them running.
  const reap = () => child.kill("SIGKILL");
  process.once("exit", reap);
  child.once("exit", () => process.off("exit", reap));
  let output = "";
  // TRADEPIPE_TEST_OPERATOR_LOG=<file> keeps every operator's log lines, for debugging.
  const keep = process.env.TRADEPIPE_TEST_OPERATOR_LOG;
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
    if (keep) appendFileSync(keep, d);
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  return {
    child,
    identity,
    logs: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = await exited;
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** waitFor polls `check` until it returns a value other than undefined/false, or fails with `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ""}`,
  );
}

/** Json is kubectl's output: tests read it field by field and assert on what they find. */
// biome-ignore lint/suspicious/noExplicitAny: untyped API objects, checked by the assertions
export type Json = Record<string, any>;

export async function getJson<T = Json>(cluster: ControlPlane, args: string[]): Promise<T> {
  const r = await cluster.kubectl(["get", ...args, "-o", "json"]);
  return JSON.parse(r.stdout) as T;
}

/** samplePipeline: a TradingPipeline placed on the trading nodes, as a platform team writes it. */
export function samplePipeline(
  name: string,
  namespace: string,
  spec: Record<string, unknown> = {},
) {
  return {
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name, namespace },
    spec: {
      broker: { kind: "simulator" },
      placement: {
        topology: "distributed",
        nodeSelector: { "tradepipe.io/node-role": "trading" },
        tolerations: [
          { key: "tradepipe.io/trading", operator: "Equal", value: "true", effect: "NoSchedule" },
        ],
      },
      ...spec,
    },
  };
}

export async function applyYaml(cluster: ControlPlane, doc: unknown, extra: string[] = []) {
  return cluster.kubectl(["apply", ...extra, "-f", "-"], { input: stringify(doc) });
}

export async function createNamespace(cluster: ControlPlane, name: string) {
  await cluster.kubectl(["create", "namespace", name]);
}

/**
 * standInForPatroni plays Patroni for the database pods of `namespace` in tests and benchmarks
 * that are not about the database (kwok runs no container): the first pod of each pipeline is
 * labelled and annotated as Patroni's running leader, the others as streaming replicas, exactly
 * as Patroni writes them (role label, `status` annotation without an api_url, so the operator
 * makes no request to a REST API). It watches the pods and answers each new one at once, so a
 * benchmark's time to Ready is not the stand-in's polling. Resolves, once its watch is synced,
 * to a function that stops it.
 */
export async function standInForPatroni(
  cluster: ControlPlane,
  namespace: string,
): Promise<() => Promise<void>> {
  const client = await createKubeClient(loadKubeConfig(cluster.kubeconfigPath));
  const answered = new Set<string>();
  const pending = new Set<Promise<void>>();
  const play = async (pod: KubeObject) => {
    const leader = pod.metadata.name.endsWith("-db-0");
    const status = JSON.stringify({
      state: leader ? "running" : "streaming",
      role: leader ? "primary" : "replica",
      timeline: 1,
      xlog_location: 0,
    });
    await client.request("PATCH", resourcePath(RESOURCES.Pod, namespace, pod.metadata.name), {
      body: {
        metadata: {
          labels: { [LABEL_DB_ROLE]: leader ? "primary" : "replica" },
          annotations: { status },
        },
      },
      contentType: MERGE_PATCH,
    });
  };
  const informer = new Informer(client, RESOURCES.Pod, {
    namespace,
    labelSelector: `${LABEL_COMPONENT}=database`,
    onEvent: (type, pod) => {
      const uid = pod.metadata.uid ?? pod.metadata.name;
      if (type === "DELETED" || pod.metadata.annotations?.status || answered.has(uid)) return;
      answered.add(uid);
      const p = play(pod)
        .catch(() => {
          answered.delete(uid); // the apiserver restarts in some tests: the next event retries
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    // Replays the cache, so a pod whose patch failed is answered again.
    resyncMs: 2000,
  });
  informer.start();
  await informer.synced;
  return async () => {
    await informer.stop();
    await Promise.all(pending);
    await client.close();
  };
}
