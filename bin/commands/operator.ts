/**
 * tradepipe operator: runs the Kubernetes operator (operator/README.md). In a pod it uses the
 * service account; elsewhere --kubeconfig, KUBECONFIG or ~/.kube/config. Serves /health,
 * /ready (informer caches synced) and /metrics.
 */
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { startOperator } from "../../operator/controller/manager.ts";
import { DEFAULT_NETWORK_SETTINGS } from "../../operator/specs/network-policy.ts";
import { createReadiness, startHealthServer } from "../../services/core/health/index.ts";
import { createKubeClient, loadKubeConfig } from "../../services/core/kube/client.ts";
import { DEFAULT_TIMING, validateTiming } from "../../services/core/kube/lease-record.ts";
import { createLogger, createMetrics } from "../../services/core/telemetry/index.ts";

const USAGE = `usage: tradepipe operator [options]

  --kubeconfig PATH       kubeconfig to use (default: KUBECONFIG, ~/.kube/config, in-cluster)
  --namespace NS          watch only this namespace (default: every namespace)
  --lease-namespace NS    namespace of the operator's Lease (default: POD_NAMESPACE, the
                          kubeconfig's namespace, or default)
  --lease-name NAME       name of the operator's Lease (default tradepipe-operator)
  --lease-duration S      seconds a crashed leader's Lease blocks others (default ${DEFAULT_TIMING.leaseDurationMs / 1000})
  --renew-deadline S      seconds a leader keeps trying to renew before it steps down (default ${DEFAULT_TIMING.renewDeadlineMs / 1000})
  --retry-period S        seconds between attempts to acquire or renew (default ${DEFAULT_TIMING.retryPeriodMs / 1000})
  --identity ID           this replica's name in the Lease (default POD_NAME or host_pid)
  --workers N             concurrent reconciles (default 8)
  --resync S              seconds between full resyncs of the cache (default 60)
  --halt-timeout S        how long a deleted pipeline waits for trading to halt (default 30)
  --health-port N         port of /health, /ready, /metrics (default 8080; 0 picks one)
  --health-host H         address to bind (default 0.0.0.0)
  --monitoring-namespace-selector K=V[,K=V]
                          labels of the namespaces whose pods may scrape the stages' metrics
                          (default kubernetes.io/metadata.name=monitoring)
  --control-namespace-selector K=V[,K=V]
                          labels of more namespaces whose pods may reach the risk-manager's
                          control port (the kill switch); the operator's own namespace always
                          may (default: none more)
  --apiserver-cidrs LIST  where stage and database pods may reach the Kubernetes API, ports 443
                          and 6443 (default 0.0.0.0/0,::/0)
  --cluster-cidrs LIST    pod and Service ranges, never reached through the broker's egress
                          (default none)
`;

/** parseSelector reads "k=v,k2=v2" into matchLabels, or names what is wrong. */
export function parseSelector(
  text: string,
  flag = "monitoring-namespace-selector",
): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    const [key, value, ...rest] = part.split("=");
    if (!key || value === undefined || rest.length > 0) {
      return `--${flag}: "${part}" is not key=value`;
    }
    out[key.trim()] = value.trim();
  }
  return out;
}

function parseCidrs(flag: string, text: string): string[] | string {
  const list = text
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  const bad = list.find((c) => !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(c));
  return bad ? `--${flag}: "${bad}" is not a CIDR` : list;
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: "string" },
        namespace: { type: "string" },
        "lease-namespace": { type: "string" },
        "lease-name": { type: "string" },
        "lease-duration": { type: "string" },
        "renew-deadline": { type: "string" },
        "retry-period": { type: "string" },
        identity: { type: "string" },
        workers: { type: "string" },
        resync: { type: "string" },
        "halt-timeout": { type: "string" },
        "health-port": { type: "string" },
        "health-host": { type: "string" },
        "monitoring-namespace-selector": { type: "string" },
        "control-namespace-selector": { type: "string" },
        "apiserver-cidrs": { type: "string" },
        "cluster-cidrs": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`tradepipe operator: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const problems: string[] = [];
  const seconds = (flag: string, fallbackMs: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallbackMs;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0)
      problems.push(`--${flag}: "${raw}" is not a positive number of seconds`);
    return Math.round(n * 1000);
  };
  const integer = (flag: string, fallback: number, min: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      problems.push(`--${flag}: "${raw}" must be a whole number ≥ ${min}`);
    return n;
  };
  const timing = {
    leaseDurationMs: seconds("lease-duration", DEFAULT_TIMING.leaseDurationMs),
    renewDeadlineMs: seconds("renew-deadline", DEFAULT_TIMING.renewDeadlineMs),
    retryPeriodMs: seconds("retry-period", DEFAULT_TIMING.retryPeriodMs),
  };
  const workers = integer("workers", 8, 1);
  const resyncMs = seconds("resync", 60_000);
  const haltTimeoutMs = seconds("halt-timeout", 30_000);
  const healthPort = integer("health-port", 8080, 0);
  const network = { ...DEFAULT_NETWORK_SETTINGS };
  const selector = values["monitoring-namespace-selector"] as string | undefined;
  if (selector !== undefined) {
    const parsed = parseSelector(selector);
    if (typeof parsed === "string") problems.push(parsed);
    else network.monitoringNamespaceSelector = parsed;
  }
  const controlSelector = values["control-namespace-selector"] as string | undefined;
  if (controlSelector) {
    const parsed = parseSelector(controlSelector, "control-namespace-selector");
    if (typeof parsed === "string") problems.push(parsed);
    else network.controlNamespaceSelector = parsed;
  }
  for (const [flag, field] of [
    ["apiserver-cidrs", "apiServerCidrs"],
    ["cluster-cidrs", "clusterCidrs"],
  ] as const) {
    const raw = values[flag] as string | undefined;
    if (raw === undefined) continue;
    const parsed = parseCidrs(flag, raw);
    if (typeof parsed === "string") problems.push(parsed);
    else network[field] = parsed;
  }
  if (problems.length === 0) {
    try {
      validateTiming(timing);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`tradepipe operator: ${problems.join("; ")}\n`);
    return 2;
  }

  const log = createLogger({ name: "operator" });
  const metrics = createMetrics({ defaultLabels: { component: "operator" } });
  const kc = loadKubeConfig(values.kubeconfig as string | undefined);
  const client = await createKubeClient(kc);
  const identity =
    (values.identity as string) ?? process.env.POD_NAME ?? `${hostname()}_${process.pid}`;
  const leaseNamespace =
    (values["lease-namespace"] as string) ?? process.env.POD_NAMESPACE ?? client.namespace;
  // The operator's namespace may reach the risk-managers' control ports (NetworkPolicy).
  network.operatorNamespace = leaseNamespace;
  const readiness = createReadiness();
  readiness.declare("caches");
  const health = await startHealthServer({
    port: healthPort,
    host: (values["health-host"] as string) ?? "0.0.0.0",
    registry: metrics.registry,
    readiness,
  });
  let operator: ReturnType<typeof startOperator>;
  try {
    operator = startOperator({
      client,
      ...(values.namespace ? { namespace: values.namespace as string } : {}),
      leaseNamespace,
      ...(values["lease-name"] ? { leaseName: values["lease-name"] as string } : {}),
      identity,
      timing,
      workers,
      resyncMs,
      haltTimeoutMs,
      network,
      log,
      metrics,
      // IMPORTANT: a replica that lost its Lease exits at once (before anyone else may take the
      // Lease, renewDeadline < leaseDuration), so no reconcile it started can write after a new
      // leader begins; its Deployment restarts it as a standby.
      onLostLeadership: (reason) => {
        log.error({ reason }, "leadership lost: exiting");
        process.exit(3);
      },
    });
  } catch (err) {
    await health.close();
    throw err;
  }
  log.info(
    { server: client.server, identity, leaseNamespace, health: health.url, ...timing },
    "operator started",
  );
  void operator.synced.then(() => {
    readiness.set("caches", true);
    log.info("caches synced");
  });
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  log.info("stopping: finishing reconciles, releasing the lease");
  await operator.stop();
  await health.close();
  await client.close();
  log.info("stopped");
  return 0;
}
