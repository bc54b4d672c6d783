/**
 * network-policy-eval: decides, from NetworkPolicy objects as the apiserver stores them, whether
 * a connection from one pod to another is allowed, following the NetworkPolicy API's rules
 * (kubernetes.io/docs/concepts/services-networking/network-policies):
 *
 * - a pod is isolated for ingress (egress) when a policy in its namespace selects it and lists
 *   Ingress (Egress) in policyTypes; an isolated pod allows only what some selecting policy's
 *   rules allow (policies add up, never subtract); a connection needs the source's egress and
 *   the destination's ingress;
 * - a peer with only podSelector means pods of the policy's namespace; only namespaceSelector,
 *   every pod of the matching namespaces; both, the matching pods of the matching namespaces;
 *   ipBlock, addresses in the CIDR and not in `except`; a rule without peers matches every peer,
 *   one without ports every port; a named port is looked up on the destination pod.
 *
 * The test control plane runs no network plugin, so the tests read the policies the operator
 * wrote to the real apiserver and ask this function what a plugin would let through.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
export interface NetworkPolicy {
  metadata: { name: string; namespace: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: { from?: Peer[]; ports?: PolicyPort[] }[];
    egress?: { to?: Peer[]; ports?: PolicyPort[] }[];
  };
}
export interface PodView {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ip?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}
export type NamespaceLabels = ReadonlyMap<string, Record<string, string>>;

export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const inValues = has && (e.values ?? []).includes(value as string);
    const ok =
      e.operator === "In"
        ? inValues
        : e.operator === "NotIn"
          ? !inValues
          : e.operator === "Exists"
            ? has
            : e.operator === "DoesNotExist"
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

function ipv4(ip: string): number | undefined {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    return undefined;
  }
  return (((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0) as number;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base = "", bits = "0"] = cidr.split("/");
  const a = ipv4(ip);
  const b = ipv4(base);
  if (a === undefined || b === undefined) return false; // IPv6 ranges never hold IPv4 pods
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return (a & mask) === (b & mask);
}

function peerMatches(
  peer: Peer,
  policyNamespace: string,
  pod: PodView,
  namespaces: NamespaceLabels,
): boolean {
  if (peer.ipBlock) {
    if (!pod.ip || !inCidr(pod.ip, peer.ipBlock.cidr)) return false;
    return !(peer.ipBlock.except ?? []).some((e) => inCidr(pod.ip as string, e));
  }
  const nsOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaces.get(pod.namespace) ?? {})
    : pod.namespace === policyNamespace;
  const podOk = peer.podSelector ? selects(peer.podSelector, pod.labels) : true;
  return nsOk && podOk;
}

function portMatches(rule: PolicyPort, port: number, protocol: string, dst: PodView): boolean {
  if ((rule.protocol ?? "TCP") !== protocol) return false;
  if (rule.port === undefined) return true;
  let number = rule.port;
  if (typeof number === "string") {
    const named = dst.ports?.find((p) => p.name === number && (p.protocol ?? "TCP") === protocol);
    if (!named) return false;
    number = named.containerPort;
  }
  return rule.endPort === undefined ? port === number : port >= number && port <= rule.endPort;
}

function direction(
  policies: readonly NetworkPolicy[],
  subject: PodView,
  type: "Ingress" | "Egress",
  peer: PodView,
  port: number,
  protocol: string,
  dst: PodView,
  namespaces: NamespaceLabels,
): boolean {
  const selecting = policies.filter(
    (p) =>
      p.metadata.namespace === subject.namespace &&
      selects(p.spec.podSelector, subject.labels) &&
      (p.spec.policyTypes ?? ["Ingress"]).includes(type),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) => {
    const rules =
      type === "Ingress"
        ? (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
        : (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
    return rules.some(
      (r) =>
        (!r.peers ||
          r.peers.length === 0 ||
          r.peers.some((x) => peerMatches(x, p.metadata.namespace, peer, namespaces))) &&
        (!r.ports ||
          r.ports.length === 0 ||
          r.ports.some((x) => portMatches(x, port, protocol, dst))),
    );
  });
}

/** allowed: would a plugin enforcing `policies` let `src` open `port` on `dst`? */
export function allowed(
  policies: readonly NetworkPolicy[],
  namespaces: NamespaceLabels,
  src: PodView,
  dst: PodView,
  port: number,
  protocol = "TCP",
): boolean {
  return (
    direction(policies, src, "Egress", dst, port, protocol, dst, namespaces) &&
    direction(policies, dst, "Ingress", src, port, protocol, dst, namespaces)
  );
}
