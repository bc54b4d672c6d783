/**
 * patroni-pods: what the database pods of a pipeline would run, as local processes on the test
 * control plane (kwok runs no container). One real Patroni process (the pinned venv, Debian's
 * Postgres) per pod of the operator's StatefulSet, named after the pod, with the patroni.yml the
 * operator rendered into its ConfigMap, the passwords from its Secret, the TLS material from its
 * `<p>-db-tls` Secret and Patroni's own ServiceAccount token (so the Role the operator grants is
 * what Patroni runs with). Only what a pod's environment and volumes would set differs:
 * addresses on loopback, local directories, the Postgres binaries.
 *
 * `playKubelet` plays the kubelet for pod replacement: a database pod being deleted gets its
 * Patroni stopped (SIGTERM, as a kubelet stops a container), and once the StatefulSet made the
 * new pod of that name, Patroni starts again on the same data directory (the retained volume).
 */
import { readFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { parse } from "yaml";
import { LABEL_COMPONENT } from "../../operator/api/names.ts";
import type { KubeObject } from "../../operator/kube/apply.ts";
import { Informer } from "../../operator/kube/informer.ts";
import { RESOURCES } from "../../operator/kube/resources.ts";
import { createKubeClient, loadKubeConfig } from "../../services/core/kube/client.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import {
  freePort,
  type PatroniMember,
  patroniRuntime,
  startPatroniMember,
} from "../support/patroni.ts";
import {
  applyYaml,
  createNamespace,
  getJson,
  type Json,
  type OperatorProcess,
  samplePipeline,
  startClusterWithOperatorRbac,
  startOperatorProcess,
  waitFor,
} from "./support.ts";

export interface PatroniPipeline {
  cluster: ControlPlane;
  /** The operator's ServiceAccount kubeconfig (to start another operator process). */
  operatorKubeconfig: string;
  /** The operator process; a test that replaces it sets the new one here. */
  operator: OperatorProcess;
  patroni: PatroniPods;
  /** stop ends the Patroni members, the operator (its log shown on a bad exit), the control plane. */
  stop(): Promise<void>;
}

/**
 * startPatroniPipeline: a control plane with the operator running as its ServiceAccount,
 * pipeline `p` in namespace `ns` with the `database` settings given, and one Patroni member per
 * database pod the operator made.
 */
export async function startPatroniPipeline(
  ns: string,
  p: string,
  database: { instances: number; synchronous: boolean },
): Promise<PatroniPipeline> {
  const started = await startClusterWithOperatorRbac();
  const cluster = started.cluster;
  const operator = startOperatorProcess(started.saKubeconfig, "operator-0");
  const env: Partial<PatroniPipeline> = {
    cluster,
    operatorKubeconfig: started.saKubeconfig,
    operator,
  };
  const stop = async () => {
    await env.patroni?.stop();
    const code = await env.operator?.stop();
    if (code !== 0) process.stderr.write(env.operator?.logs().slice(-4000) ?? "");
    await cluster.stop();
  };
  try {
    await createNamespace(cluster, ns);
    await applyYaml(cluster, samplePipeline(p, ns, { database }));
    env.patroni = await startPatroniPods(cluster, ns, p, database.instances);
  } catch (err) {
    await stop();
    throw err;
  }
  return Object.assign(env as PatroniPipeline, { stop });
}

export interface PatroniPods {
  members: PatroniMember[];
  member(name: string): PatroniMember;
  appPassword: string;
  superPassword: string;
  /** The operator's database CA (`<p>-db-tls`): every client verifies with it. */
  caFile: string;
  /** pg client options: TLS verified against the operator's CA. */
  verified(): { ssl: { ca: string; rejectUnauthorized: true } };
  /** query runs `sql` as the superuser on one member. */
  query<T extends pg.QueryResultRow>(m: PatroniMember, sql: string): Promise<T[]>;
  /** stop kills every member and removes the directories (TRADEPIPE_TEST_KEEP_PATRONI keeps them). */
  stop(): Promise<void>;
}

/**
 * startPatroniPods waits for `instances` database pods of pipeline `p` in `ns` and starts one
 * Patroni member per pod.
 */
export async function startPatroniPods(
  cluster: ControlPlane,
  ns: string,
  p: string,
  instances: number,
): Promise<PatroniPods> {
  const rt = await patroniRuntime();
  const pods = await waitFor(
    `${instances} database pods`,
    async () => {
      const list = await getJson(cluster, ["pods", "-n", ns, "-l", `${LABEL_COMPONENT}=database`]);
      return list.items.length === instances ? (list.items as Json[]) : undefined;
    },
    180_000,
    500,
  );
  const cm = await getJson(cluster, ["configmap", `${p}-db-patroni`, "-n", ns]);
  const secret = await getJson(cluster, ["secret", `${p}-db-credentials`, "-n", ns]);
  const fromSecret = (k: string) => Buffer.from(secret.data[k], "base64").toString("utf8");
  const appPassword = fromSecret("password");
  const superPassword = fromSecret("superuser-password");
  const dir = await mkdtemp(join(tmpdir(), "tp-patroni-k8s-"));
  await chmod(dir, 0o755);
  // Patroni's own ServiceAccount: it runs with exactly the Role the operator granted.
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(
    kubeconfig,
    await readFile(await cluster.createServiceAccountKubeconfig(ns, `${p}-db`)),
    { mode: 0o600 },
  );
  const kubeContext = parse(await readFile(kubeconfig, "utf8"))["current-context"] as string;
  // What the database-tls volume would mount: the operator's certificate, key and CA, with the
  // key private to the user that runs Postgres.
  const tlsSecret = await getJson(cluster, ["secret", `${p}-db-tls`, "-n", ns]);
  const tlsDir = join(dir, "tls");
  await mkdir(tlsDir, { mode: 0o700 });
  for (const key of ["tls.crt", "tls.key", "ca.crt"]) {
    const path = join(tlsDir, key);
    await writeFile(path, Buffer.from(tlsSecret.data[key], "base64"), { mode: 0o600 });
    if (rt.runAs) await chown(path, rt.runAs.uid, rt.runAs.gid);
  }
  if (rt.runAs) await chown(tlsDir, rt.runAs.uid, rt.runAs.gid);
  const caFile = join(tlsDir, "ca.crt");
  const bootstrapScript = join(dir, "post-bootstrap.sh");
  await writeFile(bootstrapScript, cm.data["post-bootstrap.sh"], { mode: 0o755 });
  if (rt.runAs) await chown(kubeconfig, rt.runAs.uid, rt.runAs.gid);
  const env = {
    KUBECONFIG: kubeconfig,
    PATH: `${rt.pgBinDir}:/usr/bin:/bin`,
    PATRONI_KUBERNETES_NAMESPACE: ns,
    PATRONI_SUPERUSER_PASSWORD: superPassword,
    PATRONI_REPLICATION_PASSWORD: fromSecret("replication-password"),
    PATRONI_REWIND_PASSWORD: fromSecret("rewind-password"),
    TRADEPIPE_DB_USER: fromSecret("username"),
    TRADEPIPE_DB_PASSWORD: appPassword,
    TRADEPIPE_DB_NAME: fromSecret("database"),
  };
  const members: PatroniMember[] = [];
  for (const pod of pods.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const name = pod.metadata.name as string;
    const config = parse(cm.data["patroni.yml"]);
    const rest = `127.0.0.1:${await freePort()}`;
    const pgAddr = `127.0.0.1:${await freePort()}`;
    // What the pod's environment (PATRONI_NAME, *_CONNECT_ADDRESS) and volumes would set.
    config.name = name;
    config.restapi = { listen: rest, connect_address: rest };
    config.postgresql.listen = pgAddr;
    config.postgresql.connect_address = pgAddr;
    config.postgresql.data_dir = join(dir, name, "data");
    config.postgresql.pgpass = join(dir, name, "pgpass");
    config.postgresql.bin_dir = rt.pgBinDir;
    config.postgresql.parameters.unix_socket_directories = join(dir, name, "run");
    config.postgresql.parameters.ssl_cert_file = join(tlsDir, "tls.crt");
    config.postgresql.parameters.ssl_key_file = join(tlsDir, "tls.key");
    for (const role of Object.values(config.postgresql.authentication) as Json[]) {
      role.sslrootcert = caFile;
    }
    config.bootstrap.post_bootstrap = `sh ${bootstrapScript}`;
    // In a pod Patroni uses the in-cluster token; outside, its kubeconfig's context.
    config.kubernetes.context = kubeContext;
    members.push(await startPatroniMember({ dir: join(dir, name), config, env }));
  }
  const verified = () => ({
    ssl: { ca: readFileSync(caFile, "utf8"), rejectUnauthorized: true as const },
  });
  return {
    members,
    member(name) {
      const m = members.find((x) => x.name === name);
      if (!m) throw new Error(`no member ${name}`);
      return m;
    },
    appPassword,
    superPassword,
    caFile,
    verified,
    async query<T extends pg.QueryResultRow>(m: PatroniMember, sql: string) {
      const c = new pg.Client({
        host: "127.0.0.1",
        port: m.pgPort,
        user: "postgres",
        password: superPassword,
        database: "postgres",
        connectionTimeoutMillis: 5000,
        ...verified(),
      });
      c.on("error", () => {});
      await c.connect();
      try {
        return (await c.query<T>(sql)).rows;
      } finally {
        await c.end();
      }
    },
    async stop() {
      for (const m of members) await m.kill();
      if (process.env.TRADEPIPE_TEST_KEEP_PATRONI) process.stdout.write(`# kept ${dir}\n`);
      else await rm(dir, { recursive: true, force: true });
    },
  };
}

/** PodReplacement: one database pod the kubelet player saw deleted and brought back. */
export interface PodReplacement {
  pod: string;
  /** performance.now() when the pod was first seen terminating. */
  deletedAt: number;
  /** When its Patroni was started again under the new pod. */
  restartedAt?: number;
}

export interface Kubelet {
  replacements: PodReplacement[];
  /** Every database pod as last seen (the watch's view), by name. */
  pods: Map<string, KubeObject>;
  stop(): Promise<void>;
}

/**
 * playKubelet watches the database pods of `ns` and does for their Patroni members what a
 * kubelet does for their containers when a pod is deleted: stops Patroni, and starts it again
 * (same data directory: the retained volume) once the StatefulSet made the new pod. `onPods` is
 * called on every change with the current pods (for observers such as a two-leaders check).
 *
 * The stop is a SIGKILL of Patroni and its Postgres, not a kubelet's SIGTERM: kwok removes a
 * deleted pod object at once (it strips finalizers too) and the StatefulSet makes the new pod of
 * that name within milliseconds, so a Patroni still shutting down would write its last status
 * (running, streaming) onto the new pod — which a kubelet rules out by confirming a deletion only
 * after the container exited. Stopped at once, the old Patroni writes nothing more; the pods
 * deleted are replicas (the rollout never deletes a leader's pod), which start again with crash
 * recovery.
 */
export async function playKubelet(
  cluster: ControlPlane,
  ns: string,
  patroni: PatroniPods,
  onPods: (pods: ReadonlyMap<string, KubeObject>) => void = () => {},
): Promise<Kubelet> {
  const client = await createKubeClient(loadKubeConfig(cluster.kubeconfigPath));
  const pods = new Map<string, KubeObject>();
  const replacements: PodReplacement[] = [];
  /** The pod uid each member runs for; the uids set up and torn down (once each). */
  const runsFor = new Map<string, string>();
  const setUp = new Set<string>();
  const tornDown = new Set<string>();
  const busy = new Map<string, Promise<void>>();
  let listing = true;
  /** One member at a time: a stop, then a start, in the order the events came. */
  const serially = (name: string, work: () => Promise<void>) => {
    const next = (busy.get(name) ?? Promise.resolve()).then(work).catch((err) => {
      process.stderr.write(`# kubelet player, ${name}: ${(err as Error).message}\n`);
    });
    busy.set(name, next);
  };
  const handle = (pod: KubeObject) => {
    const name = pod.metadata.name;
    const uid = pod.metadata.uid ?? "";
    const m = patroni.members.find((x) => x.name === name);
    if (!m) return;
    if (pod.metadata.deletionTimestamp) {
      if (tornDown.has(uid)) return;
      tornDown.add(uid);
      replacements.push({ pod: name, deletedAt: performance.now() });
      // Not queued behind a start in progress: nothing the old Patroni does may reach the new pod.
      if (runsFor.get(name) === uid) {
        runsFor.delete(name);
        serially(name, () => m.kill());
      }
      return;
    }
    if (setUp.has(uid)) return;
    setUp.add(uid);
    // The first pods' members were started with them (startPatroniPods).
    if (listing) {
      runsFor.set(name, uid);
      return;
    }
    serially(name, async () => {
      if (!m.running()) {
        await m.start();
        const last = replacements.findLast((r) => r.pod === name);
        if (last && last.restartedAt === undefined) last.restartedAt = performance.now();
      }
      runsFor.set(name, uid);
    });
  };
  const informer = new Informer(client, RESOURCES.Pod, {
    namespace: ns,
    labelSelector: `${LABEL_COMPONENT}=database`,
    onEvent: (type, pod) => {
      if (type === "DELETED") pods.delete(pod.metadata.name);
      else pods.set(pod.metadata.name, pod);
      if (type !== "DELETED") handle(pod);
      onPods(pods);
    },
  });
  informer.start();
  await informer.synced;
  listing = false;
  return {
    replacements,
    pods,
    async stop() {
      await informer.stop();
      await Promise.all(busy.values());
      await client.close();
    },
  };
}

export interface RwService {
  /** The loopback port clients connect to (as to `<p>-db-rw:5432`). */
  port: number;
  close(): Promise<void>;
}

/**
 * startRwService plays the rw Service and kube-proxy: each new connection goes to the member
 * `route()` names at that moment (the pod Patroni labels primary), or is refused when there is
 * none. Established connections stay where they are, as kube-proxy leaves them: those to a
 * crashed leader fail with it.
 */
export async function startRwService(
  patroni: PatroniPods,
  route: () => string | undefined,
): Promise<RwService> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    client.on("error", () => {});
    const target = route();
    if (!target) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(patroni.member(target).pgPort, "127.0.0.1");
    open.add(upstream);
    upstream.on("close", () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
