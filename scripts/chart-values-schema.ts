/**
 * chartValuesSchema is the JSON Schema of charts/tradepipe-operator/values.yaml. `pipeline.spec`
 * is the TradingPipeline spec's own schema (pipelineSpecJsonSchema), so a default pipeline set
 * through the chart is checked by helm exactly as the CRD checks it.
 */
import { pipelineSpecJsonSchema } from "../services/core/spec/index.ts";

type Schema = Record<string, unknown>;

const str = (description: string, extra: Schema = {}): Schema => ({
  type: "string",
  description,
  ...extra,
});
const int = (description: string, minimum: number, extra: Schema = {}): Schema => ({
  type: "integer",
  description,
  minimum,
  ...extra,
});
const bool = (description: string): Schema => ({ type: "boolean", description });
const obj = (description: string, properties: Schema, extra: Schema = {}): Schema => ({
  type: "object",
  description,
  additionalProperties: false,
  properties,
  ...extra,
});
const stringMap = (description: string): Schema => ({
  type: "object",
  description,
  additionalProperties: { type: "string" },
});
const anyObject = (description: string): Schema => ({ type: "object", description });
const anyList = (description: string): Schema => ({
  type: "array",
  description,
  items: { type: "object" },
});
const quantity: Schema = {
  anyOf: [
    { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$" },
    { type: "number", exclusiveMinimum: 0 },
  ],
};
const resourceList = (description: string): Schema =>
  obj(description, { cpu: quantity, memory: quantity, "ephemeral-storage": quantity });
const duration = (description: string): Schema =>
  str(description, { pattern: "^([0-9]+(ms|s|m|h))+$" });
const labelName = (description: string): Schema =>
  str(description, { pattern: "^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$" });
const dnsName = (description: string): Schema =>
  str(description, { pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 });

export function chartValuesSchema(): Schema {
  const { $schema: _drop, title: _title, ...spec } = pipelineSpecJsonSchema();
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "tradepipe-operator chart values",
    type: "object",
    additionalProperties: false,
    properties: {
      global: anyObject("Values shared with a parent chart (unused by this chart)."),
      image: obj("Image that runs the operator (and, by default, every stage).", {
        repository: str("Image repository.", { minLength: 1 }),
        tag: str("Image tag; the chart's appVersion when empty."),
        digest: str("Image digest; wins over the tag when set.", {
          pattern: "^(sha256:[a-f0-9]{64})?$",
        }),
        pullPolicy: { enum: ["Always", "IfNotPresent", "Never"] },
      }),
      imagePullSecrets: anyList("Secrets for pulling the image ([{name: ...}])."),
      nameOverride: str("Replaces the chart name in object names."),
      fullnameOverride: str("Replaces the full name of every object."),
      replicaCount: int("Operator replicas; one leads, the others stand by.", 1, {
        maximum: 5,
      }),
      leaderElection: obj("The operator's Lease.", {
        leaseName: dnsName("Name of the Lease in the release namespace."),
        leaseDurationSeconds: int("Seconds a crashed leader's Lease blocks the others.", 1),
        renewDeadlineSeconds: int("Seconds a leader tries to renew before stepping down.", 1),
        retryPeriodSeconds: int("Seconds between attempts to acquire or renew.", 1),
      }),
      operator: obj("How the operator runs.", {
        watchNamespace: str("Watch only this namespace; every namespace when empty.", {
          pattern: "^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$",
        }),
        workers: int("Concurrent reconciles.", 1, { maximum: 64 }),
        resyncSeconds: int("Seconds between full resyncs of the cache.", 1),
        haltTimeoutSeconds: int("Seconds a deleted pipeline waits for trading to halt.", 1),
        logLevel: { enum: ["trace", "debug", "info", "warn", "error", "fatal"] },
        port: int("Port of /health, /ready and /metrics.", 1024, { maximum: 65535 }),
      }),
      resources: obj(
        "Operator container resources; equal requests and limits give Guaranteed QoS.",
        {
          requests: resourceList("Requests."),
          limits: resourceList("Limits."),
        },
      ),
      serviceAccount: obj("The operator's ServiceAccount.", {
        create: bool("Create it."),
        name: str("Its name; the release's full name when empty."),
        annotations: stringMap("Annotations (e.g. for workload identity)."),
      }),
      rbac: obj(
        "The operator's ClusterRole and binding (a Role and RoleBinding in operator.watchNamespace when set).",
        { create: bool("Create them.") },
      ),
      networkPolicy: obj("The NetworkPolicies the operator writes for every pipeline.", {
        monitoringNamespaceSelector: stringMap(
          "Labels of the namespaces whose pods may scrape the stages' metrics.",
        ),
        controlNamespaceSelector: stringMap(
          "Labels of more namespaces whose pods may reach the risk-managers' control port (the release namespace always may).",
        ),
        apiServerCidrs: {
          type: "array",
          description: "Where stage and database pods may reach the Kubernetes API (443, 6443).",
          items: { type: "string", pattern: "^[0-9a-fA-F:.]+/[0-9]{1,3}$" },
        },
        clusterCidrs: {
          type: "array",
          description: "Pod and Service ranges, never reached through the broker's egress.",
          items: { type: "string", pattern: "^[0-9a-fA-F:.]+/[0-9]{1,3}$" },
        },
      }),
      admission: obj("The ValidatingAdmissionPolicy that checks every TradingPipeline.", {
        enabled: bool("Create the policy and its binding (Kubernetes 1.30 or later)."),
        brokerHosts: {
          type: "array",
          description:
            "Hosts a kind: alpaca pipeline's tradingUrl, dataUrl and historicalDataUrl may name.",
          items: { type: "string", minLength: 1 },
        },
        imageRegistries: {
          type: "array",
          description:
            'Prefixes spec.image and spec.database.image must start with; end each with "/" (or ":" for one repository).',
          items: { type: "string", minLength: 1 },
        },
      }),
      podAnnotations: stringMap("Annotations on the operator pods."),
      podLabels: stringMap("Extra labels on the operator pods."),
      nodeSelector: stringMap("Node selector of the operator pods."),
      tolerations: anyList("Tolerations of the operator pods."),
      affinity: anyObject("Affinity; a preferred anti-affinity across nodes when empty."),
      priorityClassName: str("PriorityClass of the operator pods."),
      podDisruptionBudget: obj("Keeps one replica through voluntary disruptions.", {
        enabled: bool("Create it (only with more than one replica)."),
      }),
      metrics: obj("The operator's metrics and the Prometheus Operator objects.", {
        service: obj("Service in front of /metrics.", { enabled: bool("Create it.") }),
        serviceMonitor: obj("ServiceMonitor for the operator.", {
          enabled: bool("Create it when monitoring.coreos.com/v1 is served."),
          interval: duration("Scrape interval."),
          labels: stringMap("Extra labels (e.g. what your Prometheus selects)."),
        }),
        podMonitor: obj("PodMonitor for every pipeline's stage pods.", {
          enabled: bool("Create it when monitoring.coreos.com/v1 is served."),
          interval: duration("Scrape interval."),
          labels: stringMap("Extra labels."),
        }),
        prometheusRule: obj("PrometheusRule with the tradepipe alerts.", {
          enabled: bool("Create it when monitoring.coreos.com/v1 is served."),
          labels: stringMap("Extra labels."),
        }),
      }),
      grafana: obj("Grafana dashboards.", {
        dashboards: obj("ConfigMaps for Grafana's dashboard sidecar.", {
          enabled: bool("Create them."),
          label: labelName("Label the sidecar watches."),
          labelValue: str("Value of that label."),
          folder: str("Grafana folder (grafana_folder annotation)."),
          namespace: str("Namespace of the ConfigMaps; the release namespace when empty."),
        }),
      }),
      dashboard: obj("The live trading dashboard for one pipeline.", {
        enabled: bool("Deploy it."),
        pipeline: str("The pipeline to show; pipeline.name when empty.", {
          pattern: "^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$",
          maxLength: 63,
        }),
        namespace: str("The pipeline's namespace; the release namespace when empty."),
        databaseSecret: str(
          "Secret with the database URL under `uri`; <pipeline>-db-credentials when empty.",
        ),
        auth: obj("Bearer tokens (one of the two is required).", {
          tokens: {
            type: "array",
            description: 'Token lines "<viewer|operator> <name> <sha256-hex>".',
            items: { type: "string", pattern: "^(viewer|operator) [A-Za-z0-9._@-]+ [0-9a-f]{64}$" },
          },
          existingSecret: str("Existing Secret with the token lines under `tokens`."),
        }),
        port: int("Port of the dashboard.", 1, { maximum: 65535 }),
        service: obj("Its Service.", {
          type: str("Service type.", { enum: ["ClusterIP", "NodePort", "LoadBalancer"] }),
        }),
        allowFrom: anyList(
          "NetworkPolicy peers that may reach it; the namespace's pods when empty.",
        ),
        databaseCidrs: {
          type: "array",
          description: "Where the database is (egress TCP 5432); anywhere when empty.",
          items: { type: "string" },
        },
        resources: obj("Requests and limits.", {
          requests: resourceList("Requests."),
          limits: resourceList("Limits."),
        }),
      }),
      pipeline: obj("A TradingPipeline installed with the chart.", {
        create: bool("Create it."),
        name: dnsName("Its name."),
        spec: { ...spec, description: "Its spec (the CRD's schema; defaults fill the rest)." },
      }),
    },
  };
}
