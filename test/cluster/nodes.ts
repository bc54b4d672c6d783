/** NodeTaint is a Kubernetes node taint. */
export interface NodeTaint {
  key: string;
  value: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** SimulatedNode describes one kwok-managed node: its size, labels and taints. */
export interface SimulatedNode {
  name: string;
  cpus: number;
  /** memory is a Kubernetes quantity such as "64Gi". */
  memory: string;
  pods: number;
  labels: Record<string, string>;
  taints: NodeTaint[];
}

/** tradingNodeLabels mark nodes whose kubelet runs the static CPU manager policy. */
export const tradingNodeLabels = {
  "tradepipe.io/node-role": "trading",
  "tradepipe.io/cpu-manager-policy": "static",
} as const;

/** tradingNodeTaint keeps everything but trading stages off the trading nodes. */
export const tradingNodeTaint: NodeTaint = {
  key: "tradepipe.io/trading",
  value: "true",
  effect: "NoSchedule",
};

/** localStorageClass is the default StorageClass: pre-made local PVs, bound once scheduled. */
export const localStorageClass = "tradepipe-local";

const zones = ["zone-a", "zone-b", "zone-c"];

/** defaultNodes: 3 trading nodes (16 CPUs, 64Gi, tainted) and 2 general nodes (4 CPUs, 16Gi). */
export function defaultNodes(): SimulatedNode[] {
  const trading = [1, 2, 3].map((i) => ({
    name: `trading-${i}`,
    cpus: 16,
    memory: "64Gi",
    pods: 110,
    labels: { ...tradingNodeLabels, "topology.kubernetes.io/zone": zones[(i - 1) % zones.length] },
    taints: [tradingNodeTaint],
  }));
  const general = [1, 2].map((i) => ({
    name: `general-${i}`,
    cpus: 4,
    memory: "16Gi",
    pods: 110,
    labels: {
      "tradepipe.io/node-role": "general",
      "topology.kubernetes.io/zone": zones[(i - 1) % zones.length],
    },
    taints: [],
  }));
  return [...trading, ...general];
}

/** nodeManifest renders a Node whose status (capacity, allocatable) kwok then keeps Ready. */
export function nodeManifest(node: SimulatedNode, kubeletVersion: string): object {
  const resources = {
    cpu: String(node.cpus),
    memory: node.memory,
    pods: String(node.pods),
    "ephemeral-storage": "100Gi",
  };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        type: "kwok",
        ...node.labels,
      },
    },
    spec: { taints: node.taints },
    status: {
      capacity: resources,
      allocatable: resources,
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        kubeletVersion,
        kubeProxyVersion: kubeletVersion,
        containerRuntimeVersion: "kwok",
        kernelVersion: "",
        osImage: "",
        bootID: "",
        machineID: "",
        systemUUID: "",
      },
    },
  };
}

/** storageClassManifest: no provisioner; binding waits for the scheduler to pick a node. */
export function storageClassManifest(): object {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: localStorageClass,
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
    },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "WaitForFirstConsumer",
    reclaimPolicy: "Retain",
  };
}

/** localVolumeManifests: perNode local PersistentVolumes pinned to each node by nodeAffinity. */
export function localVolumeManifests(
  nodes: SimulatedNode[],
  perNode: number,
  size = "10Gi",
): object[] {
  return nodes.flatMap((node) =>
    Array.from({ length: perNode }, (_, i) => ({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `${node.name}-local-${i + 1}`, labels: { "tradepipe.io/node": node.name } },
      spec: {
        capacity: { storage: size },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: localStorageClass,
        local: { path: `/mnt/tradepipe/${node.name}/volume-${i + 1}` },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: "kubernetes.io/hostname", operator: "In", values: [node.name] },
                ],
              },
            ],
          },
        },
      },
    })),
  );
}
