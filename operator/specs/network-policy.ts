/**
 * network-policy: the pipeline's pods on a closed network. A default-deny policy selects every
 * pod of the pipeline (ingress and egress); the policies per component then allow exactly the
 * paths the pipeline uses:
 *
 * | to                  | port            | from                                           |
 * | ------------------- | --------------- | ---------------------------------------------- |
 * | stage pods (bus)    | 5555            | this pipeline's stage pods                     |
 * | stage pods (metrics)| metrics port(s) | pods in the monitoring namespaces (configurable)|
 * | database pods       | 5432            | this pipeline's stage and database pods        |
 * | database pods       | 8008 (Patroni)  | this pipeline's database pods; the operator    |
 * | simulator pod       | 8730            | this pipeline's stage pods                     |
 * | risk-manager pods   | 8790 (control)  | pods in the operator's namespace, and in the   |
 * |                     |                 | control namespaces (configurable)              |
 *
 * Egress: DNS (53) anywhere, the Kubernetes API (443/6443 to `apiServerCidrs`) for stages and
 * database pods, and for `broker.kind: alpaca` the broker's ports outside the cluster
 * (`0.0.0.0/0` and `::/0` minus `clusterCidrs`); a traces endpoint likewise. Kubelet probes come
 * from the node and are not subject to these policies.
 *
 * IMPORTANT: NetworkPolicies are enforced by the cluster's network plugin (Calico, Cilium, …);
 * without one they are stored and ignored. Pure.
 */
import type {
  V1LabelSelector,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
} from "@kubernetes/client-node";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import { BUS_PORT } from "../../services/pipeline/endpoints.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { commonLabels, LABEL_COMPONENT, LABEL_PIPELINE, LABEL_STAGE } from "../api/names.ts";
import { POSTGRES_PORT } from "../postgres/resources.ts";
import { type Manifest, namespaceOf, ownerReference, withDigest } from "./common.ts";
import { SIMULATOR_PORT } from "./simulator.ts";
import { CONTROL_PORT, CONTROL_STAGE, healthPort } from "./stage-pod.ts";

/** PATRONI_API_PORT: the database members' REST API (leader checks between members). */
export const PATRONI_API_PORT = 8008;
const DNS_PORT = 53;
const API_SERVER_PORTS = [443, 6443];

/** NetworkSettings: the operator's cluster-wide choices (flags), the same for every pipeline. */
export interface NetworkSettings {
  /** Namespaces whose pods may scrape the stages' metrics (matchLabels of a namespace). */
  monitoringNamespaceSelector: Record<string, string>;
  /** Where the Kubernetes API is reached (stage Leases; the database's Patroni DCS). */
  apiServerCidrs: string[];
  /** Pod and Service ranges, excluded from the egress to the broker and traces endpoints. */
  clusterCidrs: string[];
  /** The operator's namespace: its pods may call the risk-manager's control listener. */
  operatorNamespace: string;
  /**
   * More namespaces whose pods may call the control listener (matchLabels of a namespace; empty:
   * none). The listener still authenticates every request: this narrows who may try.
   */
  controlNamespaceSelector: Record<string, string>;
}

export const DEFAULT_NETWORK_SETTINGS: NetworkSettings = {
  monitoringNamespaceSelector: { "kubernetes.io/metadata.name": "monitoring" },
  apiServerCidrs: ["0.0.0.0/0", "::/0"],
  clusterCidrs: [],
  operatorNamespace: "tradepipe-system",
  controlNamespaceSelector: {},
};

/**
 * NetworkPolicySpec is the wire form (client-node's model names `from` `_from`, which its
 * serializer renames; the operator sends plain JSON).
 */
export interface NetworkPolicySpec {
  podSelector: V1LabelSelector;
  policyTypes: ("Ingress" | "Egress")[];
  ingress?: { from?: V1NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] }[];
  egress?: { to?: V1NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] }[];
}

export type NetworkPolicyManifest = Manifest & { spec: NetworkPolicySpec };

export function networkPolicyName(pipeline: string, part: string): string {
  return `${pipeline}-${part}`;
}

const tcp = (port: number): V1NetworkPolicyPort => ({ protocol: "TCP", port });

function podsOf(pipeline: string, components: string[]): V1LabelSelector {
  return {
    matchLabels: { [LABEL_PIPELINE]: pipeline },
    matchExpressions: [{ key: LABEL_COMPONENT, operator: "In", values: components }],
  };
}

/** stagePods selects both the distributed (`stage`) and colocated (`stages`) stage pods. */
const stagePods = (p: string) => podsOf(p, ["stage", "stages"]);
/** databasePods selects the pipeline's Postgres pods by the labels they carry today. */
const databasePods = (p: string) => podsOf(p, ["database"]);
const simulatorPods = (p: string) => podsOf(p, ["simulator"]);

function ipBlocks(cidrs: string[], except: string[]): V1NetworkPolicyPeer[] {
  return cidrs.map((cidr) => {
    const inFamily = except.filter((e) => e.includes(":") === cidr.includes(":"));
    return { ipBlock: { cidr, ...(inFamily.length > 0 ? { except: inFamily } : {}) } };
  });
}

function urlPort(url: string): number {
  const u = new URL(url);
  if (u.port) return Number(u.port);
  return u.protocol === "http:" || u.protocol === "ws:" ? 80 : 443;
}

const dnsEgress = {
  ports: [
    { protocol: "UDP", port: DNS_PORT },
    { protocol: "TCP", port: DNS_PORT },
  ],
};

function apiServerEgress(settings: NetworkSettings) {
  return { to: ipBlocks(settings.apiServerCidrs, []), ports: API_SERVER_PORTS.map(tcp) };
}

/** externalEgress: ports on hosts outside the cluster (the broker, a traces endpoint). */
function externalEgress(tp: TradingPipeline, settings: NetworkSettings) {
  const ports = new Set<number>();
  const broker = tp.spec.broker;
  if (broker.kind === "alpaca") {
    for (const url of [broker.tradingUrl, broker.dataUrl, broker.historicalDataUrl]) {
      ports.add(urlPort(url));
    }
  }
  const otlp = tp.spec.observability.otlpEndpoint;
  if (otlp) ports.add(urlPort(otlp));
  if (ports.size === 0) return [];
  const to = ipBlocks(["0.0.0.0/0", "::/0"], settings.clusterCidrs);
  return [{ to, ports: [...ports].sort((a, b) => a - b).map(tcp) }];
}

function policy(
  tp: TradingPipeline,
  part: string,
  podSelector: V1LabelSelector,
  spec: Pick<NetworkPolicySpec, "ingress" | "egress">,
): NetworkPolicyManifest {
  const pipeline = tp.metadata.name;
  return withDigest({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: networkPolicyName(pipeline, part),
      namespace: namespaceOf(tp),
      labels: commonLabels(pipeline, "network"),
      ownerReferences: [ownerReference(tp)],
    },
    spec: { podSelector, policyTypes: ["Ingress", "Egress"], ...spec },
  });
}

/** metricsPorts: one port for a lone stage, five consecutive ones in a colocated pod. */
function metricsPorts(tp: TradingPipeline): number[] {
  if (tp.spec.placement.topology !== "colocated") return [tp.spec.observability.metricsPort];
  return STAGE_PROCESSES.map((s) => healthPort(tp, s, true));
}

/**
 * controlPolicy: the risk-manager's control port (the kill switch) only from the operator's
 * namespace and the namespaces the settings name. Distributed: the risk-manager's pods alone;
 * colocated: the pods of the five stages (the risk-manager is one of their containers).
 */
function controlPolicy(tp: TradingPipeline, settings: NetworkSettings): NetworkPolicyManifest {
  const p = tp.metadata.name;
  const colocated = tp.spec.placement.topology === "colocated";
  const pods: V1LabelSelector = colocated
    ? podsOf(p, ["stages"])
    : { matchLabels: { [LABEL_PIPELINE]: p, [LABEL_STAGE]: CONTROL_STAGE } };
  const from: V1NetworkPolicyPeer[] = [
    {
      namespaceSelector: {
        matchLabels: { "kubernetes.io/metadata.name": settings.operatorNamespace },
      },
    },
  ];
  if (Object.keys(settings.controlNamespaceSelector).length > 0) {
    from.push({ namespaceSelector: { matchLabels: { ...settings.controlNamespaceSelector } } });
  }
  return policy(tp, "control", pods, { ingress: [{ from, ports: [tcp(CONTROL_PORT)] }] });
}

export function buildNetworkPolicies(
  tp: TradingPipeline,
  settings: NetworkSettings = DEFAULT_NETWORK_SETTINGS,
): NetworkPolicyManifest[] {
  const p = tp.metadata.name;
  const distributed = tp.spec.placement.topology !== "colocated";
  const simulator = tp.spec.broker.kind === "simulator";
  const stages = { podSelector: stagePods(p) };
  const databases = { podSelector: databasePods(p) };
  const monitoring = { namespaceSelector: { matchLabels: settings.monitoringNamespaceSelector } };
  const out = [
    // Anything carrying the pipeline's label and not allowed below is cut off both ways.
    policy(tp, "default-deny", { matchLabels: { [LABEL_PIPELINE]: p } }, {}),
    policy(tp, "stages", stagePods(p), {
      ingress: [
        ...(distributed ? [{ from: [stages], ports: [tcp(BUS_PORT)] }] : []),
        { from: [monitoring], ports: metricsPorts(tp).map(tcp) },
      ],
      egress: [
        ...(distributed ? [{ to: [stages], ports: [tcp(BUS_PORT)] }] : []),
        { to: [databases], ports: [tcp(POSTGRES_PORT)] },
        ...(simulator
          ? [{ to: [{ podSelector: simulatorPods(p) }], ports: [tcp(SIMULATOR_PORT)] }]
          : []),
        dnsEgress,
        apiServerEgress(settings),
        ...externalEgress(tp, settings),
      ],
    }),
    policy(tp, "database", databasePods(p), {
      ingress: [
        { from: [stages, databases], ports: [tcp(POSTGRES_PORT)] },
        { from: [databases], ports: [tcp(PATRONI_API_PORT)] },
        // The operator asks Patroni's REST API for switchovers and configuration changes.
        {
          from: [
            {
              namespaceSelector: {},
              podSelector: { matchLabels: { "app.kubernetes.io/name": "tradepipe-operator" } },
            },
          ],
          ports: [tcp(PATRONI_API_PORT)],
        },
      ],
      egress: [
        { to: [databases], ports: [tcp(POSTGRES_PORT), tcp(PATRONI_API_PORT)] },
        dnsEgress,
        apiServerEgress(settings),
      ],
    }),
  ];
  out.push(controlPolicy(tp, settings));
  if (simulator) {
    out.push(
      policy(tp, "simulator", simulatorPods(p), {
        ingress: [{ from: [stages], ports: [tcp(SIMULATOR_PORT)] }],
        egress: [],
      }),
    );
  }
  return out;
}
