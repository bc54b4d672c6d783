import { homedir } from "node:os";
import { join } from "node:path";

/** defaultClusterDir is where `npm run cluster:up` keeps its state, logs and kubeconfig. */
export function defaultClusterDir(): string {
  const cache = process.env.TRADEPIPE_CACHE ?? join(homedir(), ".cache", "tradepipe");
  return process.env.TRADEPIPE_CLUSTER_DIR ?? join(cache, "cluster");
}

/** Ports are the loopback ports one control plane listens on. */
export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
}

/** Layout names every file and directory of one control plane's state directory. */
export interface Layout {
  dir: string;
  pki: string;
  logs: string;
  etcdData: string;
  tokenFile: string;
  adminKubeconfig: string;
  kubeconfigs: string;
  kwokConfig: string;
  state: string;
  kubectlCache: string;
  helmHome: string;
}

/** layoutOf returns the fixed layout under dir. */
export function layoutOf(dir: string): Layout {
  return {
    dir,
    pki: join(dir, "pki"),
    logs: join(dir, "logs"),
    etcdData: join(dir, "etcd"),
    tokenFile: join(dir, "pki", "tokens.csv"),
    adminKubeconfig: join(dir, "kubeconfig"),
    kubeconfigs: join(dir, "kubeconfigs"),
    kwokConfig: join(dir, "kwok.yaml"),
    state: join(dir, "state.json"),
    kubectlCache: join(dir, "cache", "kubectl"),
    helmHome: join(dir, "cache", "helm"),
  };
}

/** serviceClusterIpRange holds Service ClusterIPs; kwok hands out pod IPs from podCidr. */
export const serviceClusterIpRange = "10.96.0.0/16";
export const podCidr = "10.244.0.1/16";

/** etcdArgs: a single-member etcd on loopback, fsync off because test data is disposable. */
export function etcdArgs(layout: Layout, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    "--name=default",
    `--data-dir=${layout.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

/** apiserverArgs: RBAC, static tokens, a generated serving certificate, all on loopback. */
export function apiserverArgs(layout: Layout, ports: Ports): string[] {
  const pki = (name: string) => join(layout.pki, name);
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${ports.apiserver}`,
    `--cert-dir=${pki("apiserver-generated")}`,
    `--tls-cert-file=${pki("apiserver.crt")}`,
    `--tls-private-key-file=${pki("apiserver.key")}`,
    `--client-ca-file=${pki("ca.crt")}`,
    `--token-auth-file=${layout.tokenFile}`,
    "--authorization-mode=RBAC",
    `--service-cluster-ip-range=${serviceClusterIpRange}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki("sa.pub")}`,
    `--service-account-signing-key-file=${pki("sa.key")}`,
    "--allow-privileged=true",
    // Endpoints may not hold loopback addresses; nothing in the tests dials the kubernetes Service.
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    "--event-ttl=1h",
  ];
}

/** controllerManagerArgs: one controller identity per controller, like kubeadm clusters. */
export function controllerManagerArgs(layout: Layout): string[] {
  const pki = (name: string) => join(layout.pki, name);
  return [
    `--kubeconfig=${join(layout.kubeconfigs, "kube-controller-manager.kubeconfig")}`,
    "--leader-elect=false",
    "--secure-port=0",
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${pki("sa.key")}`,
    `--root-ca-file=${pki("ca.crt")}`,
    `--cluster-signing-cert-file=${pki("ca.crt")}`,
    `--cluster-signing-key-file=${pki("ca.key")}`,
    `--service-cluster-ip-range=${serviceClusterIpRange}`,
    "--kube-api-qps=200",
    "--kube-api-burst=400",
  ];
}

/** schedulerArgs: the default scheduler profile, no serving port. */
export function schedulerArgs(layout: Layout): string[] {
  return [
    `--kubeconfig=${join(layout.kubeconfigs, "kube-scheduler.kubeconfig")}`,
    "--leader-elect=false",
    "--secure-port=0",
  ];
}

/** kwokArgs: kwok plays the kubelet of every Node object, with its default stages. */
export function kwokArgs(layout: Layout): string[] {
  return [
    `--kubeconfig=${join(layout.kubeconfigs, "kwok.kubeconfig")}`,
    // An explicit (empty) config so a ~/.kwok/kwok.yaml on the machine cannot change behaviour.
    `--config=${layout.kwokConfig}`,
    "--manage-all-nodes=true",
    `--cidr=${podCidr}`,
    "--node-ip=10.250.0.1",
  ];
}

/** kwokConfig is the content of layout.kwokConfig. */
export const kwokConfig = [
  "apiVersion: config.kwok.x-k8s.io/v1alpha1",
  "kind: KwokConfiguration",
  "options: {}",
  "",
].join("\n");
