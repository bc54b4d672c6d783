import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type ApiTarget, apiGet, readyNodeNames, waitUntil } from "./api.ts";
import { ensureBinaries } from "./binaries.ts";
import { type CommandOptions, type CommandResult, runTool } from "./commands.ts";
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  kwokArgs,
  kwokConfig,
  layoutOf,
  type Ports,
  schedulerArgs,
} from "./components.ts";
import { writeCredentials } from "./credentials.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import {
  defaultNodes,
  localVolumeManifests,
  nodeManifest,
  type SimulatedNode,
  storageClassManifest,
} from "./nodes.ts";
import { generatePki } from "./pki.ts";
import {
  type Component,
  type ComponentRecord,
  freePort,
  isRunning,
  lastLines,
  startComponent,
  stopComponent,
} from "./processes.ts";

export type { CommandOptions, CommandResult } from "./commands.ts";
export type { SimulatedNode } from "./nodes.ts";

/** ControlPlaneOptions tune startControlPlane; every field is optional. */
export interface ControlPlaneOptions {
  /** dir holds certificates, data, logs and kubeconfigs; default a new temp dir. */
  dir?: string;
  /** nodes to register; default defaultNodes() (3 tainted trading nodes, 2 general nodes). */
  nodes?: SimulatedNode[];
  /** volumesPerNode local PersistentVolumes per node (StorageClass tradepipe-local); default 8. */
  volumesPerNode?: number;
  /** detached components outlive this process (npm run cluster:up); default false. */
  detached?: boolean;
  /** removeDirOnStop; default true for a temp dir, false for a given dir. */
  removeDirOnStop?: boolean;
  /** startTimeoutMs bounds each wait during start-up; default 60 s. */
  startTimeoutMs?: number;
}

/** ControlPlane is a running etcd, kube-apiserver, controller-manager, scheduler and kwok. */
export interface ControlPlane {
  dir: string;
  /** server is the apiserver URL, https://127.0.0.1:<port>. */
  server: string;
  /** kubeconfigPath authenticates as an admin (group system:masters) with adminToken. */
  kubeconfigPath: string;
  adminToken: string;
  caCertPath: string;
  /** binDir holds kubectl, helm and the control-plane binaries. */
  binDir: string;
  /** version is the apiserver's gitVersion, e.g. v1.36.3. */
  version: string;
  nodes: SimulatedNode[];
  /** kubectl runs the built kubectl against this cluster (admin unless options.kubeconfig). */
  kubectl(args: string[], options?: CommandOptions): Promise<CommandResult>;
  /** helm runs the built helm against this cluster with its own cache and config dirs. */
  helm(args: string[], options?: CommandOptions): Promise<CommandResult>;
  /**
   * createServiceAccountKubeconfig creates the ServiceAccount if missing, requests a token for
   * it through the TokenRequest API and returns the path of a kubeconfig using that token.
   */
  createServiceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /**
   * restartApiServer stops the apiserver (SIGTERM, SIGKILL after 2 s: it otherwise waits on
   * open watches), keeps it down for downtimeMs (default 0) and starts it again on the same
   * port and etcd; resolves once /readyz answers 200.
   */
  restartApiServer(options?: { downtimeMs?: number }): Promise<void>;
  /**
   * recycleReleasedVolumes makes Released local PVs (their claim deleted) Available again by
   * dropping their claimRef, as a local-volume provisioner would; returns how many it freed.
   */
  recycleReleasedVolumes(): Promise<number>;
  /** logFile returns the log of a component: etcd, kube-apiserver, kube-controller-manager, ... */
  logFile(component: string): string;
  /** stop ends every component (SIGTERM, then SIGKILL) and removes dir if it was a temp dir. */
  stop(): Promise<void>;
}

/** ControlPlaneState is written to <dir>/state.json so another process can stop the cluster. */
export interface ControlPlaneState {
  server: string;
  kubeconfigPath: string;
  binDir: string;
  components: ComponentRecord[];
}

const stopOrder = ["kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"];

/**
 * startControlPlane starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * kwok on free loopback ports, registers the simulated nodes and local volumes, and resolves
 * once the nodes are Ready and the default ServiceAccount exists. Builds the binaries first
 * when the cache lacks them.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = await ensureBinaries();
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "tradepipe-cluster-")));
  const removeDirOnStop = options.removeDirOnStop ?? options.dir === undefined;
  const detached = options.detached ?? false;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const nodes = options.nodes ?? defaultNodes();
  const layout = layoutOf(dir);
  for (const d of [layout.pki, layout.logs, layout.etcdData, layout.kubeconfigs]) {
    await mkdir(d, { recursive: true });
  }
  const components: Component[] = [];
  const logFile = (name: string) => join(layout.logs, `${name}.log`);
  const start = (name: string, args: string[]) => {
    const component = startComponent(name, join(binDir, name), args, logFile(name), detached);
    components.push(component);
    return component;
  };
  // A test process that ends without stop() (a failed before hook, a runner timeout) must not
  // leave its cluster running; detached clusters are meant to outlive us.
  const killOnExit = () => {
    for (const c of components) if (c.child && c.child.exitCode === null) c.child.kill("SIGKILL");
  };
  if (!detached) process.once("exit", killOnExit);
  const stopAll = async () => {
    process.removeListener("exit", killOnExit);
    for (const name of stopOrder) {
      for (const c of components.filter((x) => x.name === name)) await stopComponent(c);
    }
  };
  const saveState = () => {
    const state: ControlPlaneState = {
      server,
      kubeconfigPath: layout.adminKubeconfig,
      binDir,
      components: components.map(({ name, pid, binary, logFile }) => ({
        name,
        pid,
        binary,
        logFile,
      })),
    };
    return writeFile(layout.state, `${JSON.stringify(state, null, 2)}\n`);
  };

  const ports: Ports = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  try {
    const pki = await generatePki(layout.pki);
    const caPem = await readFile(pki.caCert, "utf8");
    const adminToken = await writeCredentials(layout, server, caPem);
    await writeFile(layout.kwokConfig, kwokConfig);
    const target: ApiTarget = { server, caPem, token: adminToken };
    const hint = (name: string) => async () =>
      `--- ${logFile(name)} ---\n${await lastLines(logFile(name))}`;
    const alive = async (component: Component) => {
      if (!(await isRunning(component))) {
        throw new Error(`${component.name} exited; see ${component.logFile}`);
      }
    };

    const etcd = start("etcd", etcdArgs(layout, ports));
    await saveState();
    await waitUntil(
      "etcd health",
      async () => {
        await alive(etcd);
        const res = await fetch(`http://127.0.0.1:${ports.etcdClient}/health`);
        return res.ok ? true : undefined;
      },
      { timeoutMs, hint: hint("etcd") },
    );

    const apiserverArgv = apiserverArgs(layout, ports);
    let apiserver = start("kube-apiserver", apiserverArgv);
    await saveState();
    const waitApiReady = () =>
      waitUntil(
        "kube-apiserver /readyz",
        async () => {
          await alive(apiserver);
          const res = await apiGet(target, "/readyz");
          return res.status === 200 ? true : undefined;
        },
        { timeoutMs, hint: hint("kube-apiserver") },
      );
    await waitApiReady();
    const versionResponse = await apiGet(target, "/version");
    const version = (JSON.parse(versionResponse.body) as { gitVersion: string }).gitVersion;

    start("kube-controller-manager", controllerManagerArgs(layout));
    start("kube-scheduler", schedulerArgs(layout));
    start("kwok", kwokArgs(layout));
    await saveState();

    const tool = (name: string, args: string[], opts: CommandOptions = {}) =>
      runTool(join(binDir, name), args, layout, opts);
    const kubectl = (args: string[], opts?: CommandOptions) => tool("kubectl", args, opts);
    const helm = (args: string[], opts?: CommandOptions) => tool("helm", args, opts);

    const objects = [
      ...nodes.map((n) => nodeManifest(n, version)),
      storageClassManifest(),
      ...localVolumeManifests(nodes, options.volumesPerNode ?? 8),
    ];
    await kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    });

    await waitUntil(
      `nodes ${nodes.map((n) => n.name).join(", ")} Ready`,
      async () => {
        for (const c of components) await alive(c);
        const ready = await readyNodeNames(target);
        return nodes.every((n) => ready.has(n.name)) ? true : undefined;
      },
      { timeoutMs, hint: hint("kwok") },
    );
    await waitUntil(
      "the default ServiceAccount (created by kube-controller-manager)",
      async () => {
        const res = await apiGet(target, "/api/v1/namespaces/default/serviceaccounts/default");
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs, hint: hint("kube-controller-manager") },
    );

    const createServiceAccountKubeconfig = async (namespace: string, name: string) => {
      await kubectl(["apply", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { namespace, name },
        }),
      });
      const { stdout } = await kubectl([
        "create",
        "token",
        name,
        "-n",
        namespace,
        "--duration=24h",
      ]);
      const path = join(layout.kubeconfigs, `sa-${namespace}-${name}.kubeconfig`);
      const user = `system:serviceaccount:${namespace}:${name}`;
      await writeFile(
        path,
        renderKubeconfig({ server, caPem, user, token: stdout.trim(), namespace }),
        {
          mode: 0o600,
        },
      );
      return path;
    };

    const restartApiServer = async (restart: { downtimeMs?: number } = {}) => {
      await stopComponent(apiserver, 2_000);
      if (restart.downtimeMs) await sleep(restart.downtimeMs);
      components.splice(components.indexOf(apiserver), 1);
      apiserver = start("kube-apiserver", apiserverArgv);
      await saveState();
      await waitApiReady();
    };

    const recycleReleasedVolumes = async () => {
      const { stdout } = await kubectl(["get", "pv", "-o", "json"]);
      const volumes = JSON.parse(stdout) as {
        items: { metadata: { name: string }; status?: { phase?: string } }[];
      };
      const released = volumes.items.filter((v) => v.status?.phase === "Released");
      for (const volume of released) {
        const patch = '[{"op":"remove","path":"/spec/claimRef"}]';
        await kubectl(["patch", "pv", volume.metadata.name, "--type=json", "-p", patch]);
      }
      return released.length;
    };

    let stopped = false;
    return {
      dir,
      server,
      kubeconfigPath: layout.adminKubeconfig,
      adminToken,
      caCertPath: pki.caCert,
      binDir,
      version,
      nodes,
      kubectl,
      helm,
      createServiceAccountKubeconfig,
      restartApiServer,
      recycleReleasedVolumes,
      logFile,
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopAll();
        if (removeDirOnStop) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopAll();
    // Keep the logs of a failed start; the error names them.
    throw new Error(
      `control plane failed to start (state and logs in ${dir}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** readControlPlaneState reads <dir>/state.json, or undefined when there is none. */
export async function readControlPlaneState(dir: string): Promise<ControlPlaneState | undefined> {
  try {
    return JSON.parse(await readFile(layoutOf(dir).state, "utf8")) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

/** stopControlPlaneAt stops a control plane started by another process (cluster:up). */
export async function stopControlPlaneAt(dir: string): Promise<number> {
  const state = await readControlPlaneState(dir);
  if (!state) return 0;
  let stopped = 0;
  for (const name of stopOrder) {
    for (const c of state.components.filter((x) => x.name === name)) {
      if (await isRunning(c)) stopped++;
      await stopComponent(c);
    }
  }
  return stopped;
}
