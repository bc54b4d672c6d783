/**
 * The informer and the Lease elector against a real apiserver: the cache follows creates,
 * updates and deletes, survives an apiserver restart (re-watching or re-listing), and the
 * elector's fencing epoch moves on every acquisition, a leader whose renewals hang stops
 * leading before anyone else can take its Lease, and a contender whose read was slow still
 * waits a whole lease duration from when it saw the holder's renewal. Read-your-writes: a
 * write's answer is read back before the watch delivers it, and no event is lost for it.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { KubeObject } from "../../operator/kube/apply.ts";
import { Informer } from "../../operator/kube/informer.ts";
import { RESOURCES, resourcePath } from "../../operator/kube/resources.ts";
import {
  createKubeClient,
  type KubeClient,
  loadKubeConfig,
} from "../../services/core/kube/client.ts";
import { LeaseElector } from "../../services/core/kube/lease-elector.ts";
import { toMicroTime } from "../../services/core/kube/lease-record.ts";
import { type ControlPlane, startControlPlane } from "../cluster/controlplane.ts";
import { startTcpProxy } from "../support/patroni.ts";
import { waitFor } from "./support.ts";

let cluster: ControlPlane;
let client: KubeClient;
const NS = "default";

async function createConfigMap(name: string, value: string) {
  await client.request("POST", resourcePath(RESOURCES.ConfigMap, NS), {
    body: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, labels: { t: "x" } },
      data: { v: value },
    },
  });
}

describe("informer and elector on a real apiserver", { timeout: 180_000 }, () => {
  before(async () => {
    cluster = await startControlPlane();
    client = await createKubeClient(loadKubeConfig(cluster.kubeconfigPath));
  });
  after(async () => {
    await client?.close();
    await cluster?.stop();
  });

  test("the cache follows the apiserver, also across an apiserver restart", async () => {
    const events: string[] = [];
    const informer = new Informer(client, RESOURCES.ConfigMap, {
      namespace: NS,
      labelSelector: "t=x",
      onEvent: (type, obj: KubeObject) => events.push(`${type} ${obj.metadata.name}`),
    });
    await createConfigMap("before", "1");
    informer.start();
    try {
      await informer.synced;
      assert.deepEqual(events, ["ADDED before"]);
      await createConfigMap("a", "1");
      await client.request("PATCH", resourcePath(RESOURCES.ConfigMap, NS, "a"), {
        body: { data: { v: "2" } },
        contentType: "application/merge-patch+json",
      });
      await client.request("DELETE", resourcePath(RESOURCES.ConfigMap, NS, "before"));
      await waitFor("events", async () => events.length >= 4);
      assert.deepEqual(events.slice(1), ["ADDED a", "MODIFIED a", "DELETED before"]);
      assert.equal((informer.get(NS, "a")?.data as { v?: string } | undefined)?.v, "2");

      const watchesBefore = informer.stats.watches + informer.stats.lists;
      await cluster.restartApiServer({ downtimeMs: 1000 });
      await createConfigMap("after-restart", "1");
      await waitFor("the informer sees objects made after the restart", async () =>
        informer.get(NS, "after-restart"),
      );
      assert.ok(
        informer.stats.watches + informer.stats.lists > watchesBefore,
        "re-watched or re-listed",
      );
      assert.ok(informer.stats.errors >= 1, "the broken watch was noticed");
      assert.deepEqual(
        informer
          .list()
          .map((o) => o.metadata.name)
          .sort(),
        ["a", "after-restart"],
      );
    } finally {
      await informer.stop();
    }
  });

  test("the elector takes a free Lease, renews it, bumps the epoch on each new holder", async (t) => {
    const started: number[] = [];
    // What b saw of the Lease at each of its attempts: the holder and its renewTime.
    const seenByB: { holder?: string; renewTime?: string }[] = [];
    const make = (identity: string) =>
      new LeaseElector({
        client,
        namespace: NS,
        name: "elector-test",
        identity,
        onStartedLeading: ({ epoch }) => started.push(epoch),
        ...(identity === "b"
          ? {
              onObserved: (lease) =>
                seenByB.push({
                  ...(lease.spec?.holderIdentity ? { holder: lease.spec.holderIdentity } : {}),
                  ...(lease.spec?.renewTime ? { renewTime: lease.spec.renewTime } : {}),
                }),
            }
          : {}),
      });
    const a = make("a");
    a.start();
    await waitFor("a leads", async () => a.isLeader);
    assert.equal(a.epoch, 1);
    const b = make("b");
    // A failed assertion must not leave the electors renewing (the test file would never end).
    t.after(() => Promise.all([a.release(), b.release()]));
    b.start();
    // No fixed sleep: b must have watched a renew across more than a whole lease duration —
    // every chance to take a Lease that had expired — and still not lead.
    await waitFor("b to see a renew for longer than a lease duration", async () => {
      const times = seenByB
        .filter((o) => o.holder === "a" && o.renewTime)
        .map((o) => Date.parse(o.renewTime!));
      return (
        times.length >= 2 && Math.max(...times) - Math.min(...times) > b.timing.leaseDurationMs
      );
    });
    assert.equal(b.isLeader, false, "b waits while a renews");
    await a.release();
    await waitFor("b leads after a's release", async () => b.isLeader, 5000, 50);
    assert.equal(b.epoch, 2);
    assert.deepEqual(started, [1, 2]);
    const lease = await client.request<KubeObject>(
      "GET",
      resourcePath(RESOURCES.Lease, NS, "elector-test"),
    );
    assert.equal((lease.spec as { holderIdentity: string }).holderIdentity, "b");
    assert.match((lease.spec as { renewTime: string }).renewTime, /\.\d{6}Z$/);
    await b.release();
  });

  test("a leader whose renewals hang stops leading before another replica takes the Lease", async () => {
    // A's every request goes through a TCP proxy the test cuts: its renewals hang (no error),
    // the case a wall-clock check after the request returns would miss.
    const server = new URL(client.server);
    const proxy = await startTcpProxy(`${server.hostname}:${server.port}`);
    const config = readFileSync(cluster.kubeconfigPath, "utf8");
    const viaProxy = join(tmpdir(), `tp-elector-${process.pid}.kubeconfig`);
    writeFileSync(viaProxy, config.replace(server.origin, `https://127.0.0.1:${proxy.port}`));
    const clientA = await createKubeClient(loadKubeConfig(viaProxy));
    const order: string[] = [];
    const timing = { leaseDurationMs: 4000, renewDeadlineMs: 2500, retryPeriodMs: 500 };
    const a = new LeaseElector({
      client: clientA,
      namespace: NS,
      name: "deadline-test",
      identity: "a",
      ...timing,
      onStoppedLeading: (reason) => order.push(`a stopped: ${reason}`),
    });
    a.start();
    await waitFor("a leads", async () => a.isLeader);
    const b = new LeaseElector({
      client,
      namespace: NS,
      name: "deadline-test",
      identity: "b",
      ...timing,
      onStartedLeading: () => order.push("b leads"),
    });
    b.start();
    try {
      proxy.block();
      await waitFor("b leads", async () => b.isLeader, 30_000, 50);
      assert.deepEqual(order, ["a stopped: renew deadline passed", "b leads"]);
    } finally {
      proxy.unblock();
      await b.release();
      await a.release();
      await clientA.close();
      await proxy.close();
      rmSync(viaProxy, { force: true });
    }
  });

  test("a write's answer is read back at once, and a lagging watch never takes it back", async () => {
    // The informer watches through a proxy the test cuts, so its watch lags the writes below.
    const server = new URL(client.server);
    const proxy = await startTcpProxy(`${server.hostname}:${server.port}`);
    const viaProxy = join(tmpdir(), `tp-informer-${process.pid}.kubeconfig`);
    writeFileSync(
      viaProxy,
      readFileSync(cluster.kubeconfigPath, "utf8").replace(
        server.origin,
        `https://127.0.0.1:${proxy.port}`,
      ),
    );
    const lagging = await createKubeClient(loadKubeConfig(viaProxy));
    const value = (obj: KubeObject | undefined) => (obj?.data as { v?: string } | undefined)?.v;
    /** What the cache held for "ryw" whenever the watch delivered a change of "marker". */
    const atMarker: (string | undefined)[] = [];
    /** Each change of "ryw" the watch delivered: from → to. */
    const rywEvents: string[] = [];
    const informer: Informer = new Informer(lagging, RESOURCES.ConfigMap, {
      namespace: NS,
      labelSelector: "t=ryw",
      onEvent: (type, obj, old) => {
        if (type === "MODIFIED" && obj.metadata.name === "marker")
          atMarker.push(value(informer.get(NS, "ryw")));
        if (type === "MODIFIED" && obj.metadata.name === "ryw")
          rywEvents.push(`${value(old)} → ${value(obj)}`);
      },
    });
    const write = (name: string, v: string) =>
      client.request<KubeObject>("PATCH", resourcePath(RESOURCES.ConfigMap, NS, name), {
        body: { data: { v } },
        contentType: "application/merge-patch+json",
      });
    for (const name of ["ryw", "marker"]) {
      await client.request("POST", resourcePath(RESOURCES.ConfigMap, NS), {
        body: {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name, labels: { t: "ryw" } },
          data: { v: "1" },
        },
      });
    }
    informer.start();
    try {
      await informer.synced;
      await waitFor("both cached", async () => informer.size === 2);
      proxy.block();
      // "2" plays another writer's change, which the operator's write "3" then overtakes.
      const second = await write("ryw", "2");
      await write("marker", "m");
      const third = await write("ryw", "3");
      informer.observe(third);
      assert.equal(value(informer.get(NS, "ryw")), "3", "the write is read back before the watch");
      informer.observe(second);
      assert.equal(value(informer.get(NS, "ryw")), "3", "an older answer is ignored");
      proxy.unblock();
      // The watch resumes from where it was: "ryw" 2, then "marker", then "ryw" 3.
      await waitFor("the watch catches up", async () => atMarker.length > 0, 60_000, 50);
      assert.deepEqual(
        atMarker,
        ["3"],
        "the watch's older version of ryw did not replace the write",
      );
      await waitFor("the watch delivers ryw 3", async () => rywEvents.length >= 2, 60_000, 50);
      assert.deepEqual(rywEvents, ["1 → 2", "2 → 3"], "each change raised its event, as watched");
      assert.equal(value(informer.get(NS, "ryw")), "3");
    } finally {
      await informer.stop();
      await lagging.close();
      await proxy.close();
      rmSync(viaProxy, { force: true });
    }
  });
  test("a contender dates a holder's renewal from when its read answered, not from when it asked", async () => {
    // A Lease whose holder never renews again; the contender's first read is answered 10 s
    // after it was sent (a loaded apiserver), later ones after 2 s, on the contender's clock.
    await client.request("POST", resourcePath(RESOURCES.Lease, NS), {
      body: {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "slow-read-test" },
        spec: {
          holderIdentity: "ghost",
          leaseDurationSeconds: 30,
          renewTime: toMicroTime(Date.now()),
        },
      },
    });
    let clock = 0;
    let firstAnswerAt: number | undefined;
    let acquiredAt: number | undefined;
    const slowReads = {
      ...client,
      request: async (method: string, path: string, options?: object) => {
        const answer = await client.request(method, path, options);
        if (method === "GET") {
          clock += firstAnswerAt === undefined ? 10_000 : 2_000;
          firstAnswerAt ??= clock;
        }
        return answer;
      },
    } as KubeClient;
    const b = new LeaseElector({
      client: slowReads,
      namespace: NS,
      name: "slow-read-test",
      identity: "b",
      leaseDurationMs: 30_000,
      renewDeadlineMs: 20_000,
      retryPeriodMs: 200,
      now: () => clock,
      onStartedLeading: () => {
        acquiredAt ??= clock;
      },
    });
    b.start();
    try {
      await waitFor("b leads", async () => b.isLeader, 60_000, 20);
      const waited = (acquiredAt as number) - (firstAnswerAt as number);
      assert.ok(waited >= 30_000, `b took the Lease ${waited} ms after it first saw it held`);
    } finally {
      await b.release();
    }
  });
});
