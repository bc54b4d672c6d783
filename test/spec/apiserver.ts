/**
 * startApiServer runs just etcd and kube-apiserver (from the test control plane's binary cache)
 * on free loopback ports: enough to check the CRD, its defaults and its CEL rules for real,
 * without a scheduler or nodes.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries } from "../cluster/binaries.ts";

export interface ApiServer {
  kubectl(
    args: string[],
    input?: string,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function startApiServer(): Promise<ApiServer> {
  const bin = await ensureBinaries();
  const dir = await mkdtemp(join(tmpdir(), "tradepipe-spec-apiserver-"));
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(16).toString("hex");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await mkdir(join(dir, "certs"));
  await writeFile(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }));
  await writeFile(join(dir, "tokens.csv"), `${token},admin,admin,"system:masters"\n`);
  await writeFile(
    join(dir, "kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: spec, cluster: {server: "https://127.0.0.1:${apiPort}", insecure-skip-tls-verify: true}}]`,
      `users: [{name: admin, user: {token: "${token}"}}]`,
      "contexts: [{name: spec, context: {cluster: spec, user: admin, namespace: default}}]",
      "current-context: spec",
      "",
    ].join("\n"),
  );
  const children: ChildProcess[] = [];
  const start = (name: string, args: string[]) => {
    const child = spawn(join(bin, name), args, { stdio: "ignore" });
    children.push(child);
    return child;
  };
  start("etcd", [
    `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
  ]);
  start("kube-apiserver", [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    `--secure-port=${apiPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--cert-dir=${join(dir, "certs")}`,
    `--token-auth-file=${join(dir, "tokens.csv")}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc",
    `--service-account-key-file=${join(dir, "sa.key")}`,
    `--service-account-signing-key-file=${join(dir, "sa.key")}`,
    "--service-cluster-ip-range=10.96.0.0/16",
  ]);

  const kubectl: ApiServer["kubectl"] = (args, input) =>
    new Promise((resolve) => {
      const child = execFile(
        join(bin, "kubectl"),
        [`--kubeconfig=${join(dir, "kubeconfig")}`, ...args],
        { timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(input ?? "");
    });

  const stop = async () => {
    await Promise.all(children.reverse().map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 90_000;
  for (;;) {
    const ready = await kubectl(["get", "--raw", "/readyz"]);
    if (ready.code === 0) break;
    if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
      await stop();
      throw new Error(`kube-apiserver did not become ready: ${ready.stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { kubectl, stop };
}
