/**
 * resources: the API resources the operator reads or writes, and their REST paths. One table,
 * so the informers, the apply helper and the RBAC manifest agree on what is used.
 */
import { API_GROUP, API_VERSION_NAME, KIND, PLURAL } from "../../services/core/spec/index.ts";

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  /** False for cluster-scoped kinds (their paths and informers have no namespace). */
  namespaced?: boolean;
}

const core = (kind: string, plural: string): ResourceType => ({
  group: "",
  version: "v1",
  kind,
  plural,
});

export const RESOURCES = {
  TradingPipeline: { group: API_GROUP, version: API_VERSION_NAME, kind: KIND, plural: PLURAL },
  StatefulSet: { group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets" },
  Deployment: { group: "apps", version: "v1", kind: "Deployment", plural: "deployments" },
  Service: core("Service", "services"),
  ConfigMap: core("ConfigMap", "configmaps"),
  Secret: core("Secret", "secrets"),
  ServiceAccount: core("ServiceAccount", "serviceaccounts"),
  Pod: core("Pod", "pods"),
  Event: core("Event", "events"),
  Role: { group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles" },
  RoleBinding: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "RoleBinding",
    plural: "rolebindings",
  },
  ClusterRoleBinding: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    namespaced: false,
  },
  Lease: { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases" },
  NetworkPolicy: {
    group: "networking.k8s.io",
    version: "v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
  },
  PodDisruptionBudget: {
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
  },
} as const satisfies Record<string, ResourceType>;

export type ResourceKind = keyof typeof RESOURCES;

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

/** resourcePath: /api/v1/namespaces/ns/pods/name/status, or the cluster-wide list path. */
export function resourcePath(
  rt: ResourceType,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  let path = namespace
    ? `${base}/namespaces/${encodeURIComponent(namespace)}/${rt.plural}`
    : `${base}/${rt.plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

export function resourceByKind(kind: string): ResourceType {
  const rt = (RESOURCES as Record<string, ResourceType>)[kind];
  if (!rt) throw new Error(`unknown kind ${kind}`);
  return rt;
}
