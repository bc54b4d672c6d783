import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitUntil } from "./api.ts";
import { type ControlPlane, startControlPlane } from "./controlplane.ts";
import { localStorageClass, tradingNodeLabels, tradingNodeTaint } from "./nodes.ts";

interface PodJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    qosClass?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
  };
}

function isReady(pod: PodJson): boolean {
  return (
    pod.status.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

// A cold binary build runs inside before(); it can take tens of minutes on a small machine.
const buildAndStartTimeout = 60 * 60 * 1000;

describe("test control plane", { timeout: buildAndStartTimeout + 10 * 60 * 1000 }, () => {
  let cluster: ControlPlane;
  const namespace = "placement";

  async function podsMatching(selector: string): Promise<PodJson[]> {
    const args = ["get", "pods", "-n", namespace, "-l", selector, "-o", "json"];
    const { stdout } = await cluster.kubectl(args);
    return (JSON.parse(stdout) as { items: PodJson[] }).items;
  }

  async function waitForReadyPods(
    app: string,
    count: number,
    selector = `app=${app}`,
  ): Promise<PodJson[]> {
    return waitUntil(
      `${count} ready pods of ${app}`,
      async () => {
        const pods = await podsMatching(selector);
        return pods.length === count && pods.every(isReady) ? pods : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  }

  function deployment(name: string, replicas: number, podSpec: object): object {
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: podSpec },
      },
    };
  }

  before(
    async () => {
      cluster = await startControlPlane();
      await cluster.kubectl(["create", "namespace", namespace]);
    },
    { timeout: buildAndStartTimeout },
  );

  after(async () => {
    const dir = cluster?.dir;
    await cluster?.stop();
    if (dir) assert.equal(existsSync(dir), false, "stop() removes the temporary state directory");
  });

  test("serves the built Kubernetes version", async () => {
    const { stdout } = await cluster.kubectl(["version", "-o", "json"]);
    const version = JSON.parse(stdout) as {
      serverVersion: { gitVersion: string };
      clientVersion: { gitVersion: string };
    };
    assert.match(version.serverVersion.gitVersion, /^v1\.\d+\.\d+$/);
    assert.equal(version.clientVersion.gitVersion, version.serverVersion.gitVersion);
    assert.equal(cluster.version, version.serverVersion.gitVersion);
  });

  test("registers trading nodes with labels, taint and capacity, all Ready", async () => {
    const { stdout } = await cluster.kubectl(["get", "nodes", "-o", "json"]);
    const nodes = (
      JSON.parse(stdout) as {
        items: {
          metadata: { name: string; labels: Record<string, string> };
          spec: { taints?: { key: string; value: string; effect: string }[] };
          status: {
            allocatable: Record<string, string>;
            conditions: { type: string; status: string }[];
          };
        }[];
      }
    ).items;
    assert.deepEqual(
      nodes.map((n) => n.metadata.name).sort(),
      cluster.nodes.map((n) => n.name).sort(),
    );
    const trading = nodes.filter((n) => n.metadata.labels["tradepipe.io/node-role"] === "trading");
    assert.equal(trading.length, 3);
    for (const node of trading) {
      for (const [key, value] of Object.entries(tradingNodeLabels))
        assert.equal(node.metadata.labels[key], value);
      assert.deepEqual(node.spec.taints, [tradingNodeTaint]);
      assert.equal(node.status.allocatable.cpu, "16");
      assert.equal(node.status.allocatable.memory, "64Gi");
    }
    for (const node of nodes) {
      assert.ok(
        node.status.conditions.some((c) => c.type === "Ready" && c.status === "True"),
        `${node.metadata.name} is Ready`,
      );
    }
  });

  test("schedules Guaranteed pods only onto trading nodes and kwok runs them", async () => {
    const resources = {
      requests: { cpu: "2", memory: "1Gi" },
      limits: { cpu: "2", memory: "1Gi" },
    };
    await cluster.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify(
        deployment("pinned", 3, {
          nodeSelector: { "tradepipe.io/node-role": "trading" },
          tolerations: [
            { key: tradingNodeTaint.key, operator: "Equal", value: "true", effect: "NoSchedule" },
          ],
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { app: "pinned" } },
            },
          ],
          containers: [{ name: "stage", image: "example.invalid/stage:1", resources }],
        }),
      ),
    });
    const pods = await waitForReadyPods("pinned", 3);
    const nodeNames = pods.map((p) => p.spec.nodeName ?? "");
    assert.deepEqual([...new Set(nodeNames)].sort(), ["trading-1", "trading-2", "trading-3"]);
    for (const pod of pods) {
      assert.equal(pod.status.qosClass, "Guaranteed", `${pod.metadata.name} qosClass`);
      assert.match(pod.status.podIP ?? "", /^10\.244\./);
    }
  });

  test("keeps pods without the toleration off the tainted trading nodes", async () => {
    await cluster.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify(
        deployment("ordinary", 4, {
          containers: [
            {
              name: "web",
              image: "example.invalid/web:1",
              resources: { requests: { cpu: "100m" } },
            },
          ],
        }),
      ),
    });
    const pods = await waitForReadyPods("ordinary", 4);
    for (const pod of pods) {
      assert.match(pod.spec.nodeName ?? "", /^general-/, `${pod.metadata.name} on a general node`);
      assert.equal(pod.status.qosClass, "Burstable");
    }
  });

  test("binds a StatefulSet's volumeClaimTemplates to local volumes on the chosen node", async () => {
    await cluster.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "db", namespace },
        spec: {
          serviceName: "db",
          replicas: 2,
          selector: { matchLabels: { app: "db" } },
          template: {
            metadata: { labels: { app: "db" } },
            spec: {
              tolerations: [{ key: tradingNodeTaint.key, operator: "Exists" }],
              nodeSelector: { "tradepipe.io/node-role": "trading" },
              containers: [
                {
                  name: "postgres",
                  image: "postgres:17",
                  volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql/data" }],
                },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data" },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
            },
          ],
        },
      }),
    });
    const pods = await waitForReadyPods("db", 2);
    const { stdout } = await cluster.kubectl(["get", "pvc", "-n", namespace, "-o", "json"]);
    const claims = (
      JSON.parse(stdout) as {
        items: {
          metadata: { name: string };
          spec: { volumeName: string; storageClassName: string };
          status: { phase: string };
        }[];
      }
    ).items;
    assert.equal(claims.length, 2);
    for (const claim of claims) {
      assert.equal(claim.status.phase, "Bound", `${claim.metadata.name} is Bound`);
      assert.equal(claim.spec.storageClassName, localStorageClass);
      const pod = pods.find((p) => claim.metadata.name === `data-${p.metadata.name}`);
      assert.ok(pod, `a pod owns ${claim.metadata.name}`);
      assert.ok(
        claim.spec.volumeName.startsWith(`${pod.spec.nodeName}-local-`),
        `${claim.spec.volumeName} is on ${pod.spec.nodeName}`,
      );
    }
  });

  test("recycles a local volume once its claim is deleted", async () => {
    await cluster.kubectl(["scale", "statefulset", "db", "-n", namespace, "--replicas=1"]);
    await waitForReadyPods("db", 1);
    const claim = "data-db-1";
    const volume = (
      await cluster.kubectl([
        "get",
        "pvc",
        claim,
        "-n",
        namespace,
        "-o",
        "jsonpath={.spec.volumeName}",
      ])
    ).stdout;
    await cluster.kubectl(["delete", "pvc", claim, "-n", namespace, "--wait"]);
    const phase = () => cluster.kubectl(["get", "pv", volume, "-o", "jsonpath={.status.phase}"]);
    await waitUntil(
      `${volume} Released`,
      async () => ((await phase()).stdout === "Released" ? true : undefined),
      { timeoutMs: 30_000 },
    );
    assert.equal(await cluster.recycleReleasedVolumes(), 1);
    assert.equal((await phase()).stdout, "Available");
  });

  test("gives a ServiceAccount kubeconfig exactly the permissions RBAC grants", async () => {
    const kubeconfig = await cluster.createServiceAccountKubeconfig(namespace, "reader");
    const denied = await cluster.kubectl(["get", "pods", "-n", namespace], {
      kubeconfig,
      check: false,
    });
    assert.notEqual(denied.exitCode, 0);
    assert.match(denied.stderr, /forbidden.*system:serviceaccount:placement:reader/i);
    await cluster.kubectl([
      "create",
      "role",
      "pod-reader",
      "-n",
      namespace,
      "--verb=get,list",
      "--resource=pods",
    ]);
    await cluster.kubectl([
      "create",
      "rolebinding",
      "reader",
      "-n",
      namespace,
      "--role=pod-reader",
      `--serviceaccount=${namespace}:reader`,
    ]);
    const allowed = await cluster.kubectl(["get", "pods", "-n", namespace, "-o", "name"], {
      kubeconfig,
    });
    assert.match(allowed.stdout, /pod\/pinned-/);
  });

  test("runs the built helm: lint, install --wait, upgrade, uninstall", async () => {
    const chartDir = await mkdtemp(join(tmpdir(), "tradepipe-helm-"));
    try {
      const chart = join(chartDir, "demo");
      await cluster.helm(["create", chart]);
      await cluster.helm(["lint", "--strict", chart]);
      const rendered = await cluster.helm(["template", "demo", chart, "-n", namespace]);
      await cluster.kubectl(["apply", "--dry-run=server", "-n", namespace, "-f", "-"], {
        input: rendered.stdout,
      });
      const install = ["install", "demo", chart, "-n", namespace, "--wait", "--timeout", "90s"];
      await cluster.helm(install);
      await cluster.helm([
        "upgrade",
        "demo",
        chart,
        "-n",
        namespace,
        "--wait",
        "--set",
        "replicaCount=2",
      ]);
      const { stdout } = await cluster.helm(["list", "-n", namespace, "-o", "json"]);
      const releases = JSON.parse(stdout) as { name: string; revision: string; status: string }[];
      assert.deepEqual(
        releases.map((r) => [r.name, String(r.revision), r.status]),
        [["demo", "2", "deployed"]],
      );
      await waitForReadyPods("demo", 2, "app.kubernetes.io/instance=demo");
      await cluster.helm(["uninstall", "demo", "-n", namespace, "--wait"]);
    } finally {
      await rm(chartDir, { recursive: true, force: true });
    }
  });

  test("keeps its objects across an apiserver restart", async () => {
    await cluster.restartApiServer();
    const pods = await podsMatching("app=pinned");
    assert.equal(pods.length, 3);
  });
});
