/**
 * The dashboard's part of charts/tradepipe-operator rendered by the real helm, offline: off by
 * default; refused without auth; a Deployment under the restricted Pod Security profile that
 * reads the database URL and the tokens from Secrets (never the environment), a Service, a
 * NetworkPolicy (ingress on its port only, egress to DNS and Postgres), the hashed tokens
 * Secret, and the pipeline's spec mounted when the chart also installs that pipeline.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { CHART, find, type Manifest, type OfflineHelm, offlineHelm } from "./support.ts";

const HASH = "a".repeat(64);
const ON = [
  "--set",
  "dashboard.enabled=true",
  "--set",
  "dashboard.pipeline=alpha",
  "--set",
  "dashboard.namespace=trading",
  "--set-json",
  `dashboard.auth.tokens=["operator olga ${HASH}","viewer vera ${"b".repeat(64)}"]`,
];

describe("charts/tradepipe-operator: the dashboard", () => {
  let helm: OfflineHelm;
  let rendered: Manifest[];
  before(async () => {
    helm = await offlineHelm();
    rendered = await helm.template(ON);
  });
  after(() => helm?.close());

  const dashboardObjects = (ms: Manifest[]) =>
    ms.filter((m) => m.metadata.labels?.["app.kubernetes.io/component"] === "dashboard");

  it("is off by default and passes helm lint --strict when on", async () => {
    assert.deepEqual(dashboardObjects(await helm.template()), []);
    const lint = await helm.run(["lint", "--strict", CHART, ...ON]);
    assert.match(lint.stdout, /0 chart\(s\) failed/);
    assert.doesNotMatch(lint.stdout, /\[(WARNING|ERROR|INFO)\]/);
    assert.deepEqual(
      dashboardObjects(rendered)
        .map((m) => m.kind)
        .sort(),
      ["Deployment", "NetworkPolicy", "Secret", "Service"],
    );
    for (const m of dashboardObjects(rendered)) assert.equal(m.metadata.namespace, "trading");
  });

  it("refuses to render without auth, or with a token line that is not a hash", async () => {
    const none = await helm.run(
      ["template", "tp", CHART, "--set", "dashboard.enabled=true", "--set", "pipeline.name=alpha"],
      { check: false },
    );
    assert.notEqual(none.exitCode, 0);
    assert.match(none.stderr, /dashboard\.auth\.tokens or dashboard\.auth\.existingSecret/);
    const plain = await helm.run(
      [
        "template",
        "tp",
        CHART,
        "--set",
        "dashboard.enabled=true",
        "--set-json",
        'dashboard.auth.tokens=["operator olga secret-token"]',
      ],
      { check: false },
    );
    assert.notEqual(plain.exitCode, 0);
    assert.match(plain.stderr, /\/dashboard\/auth\/tokens\/0/);
  });

  it("runs one restricted pod: non-root, read-only root, no capabilities, no API token, probes", () => {
    const deploy = find(rendered, "Deployment", "tp-tradepipe-operator-dashboard");
    assert.ok(deploy, "no dashboard Deployment");
    assert.equal(deploy.spec.replicas, 1);
    const pod = deploy.spec.template.spec;
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    const c = pod.containers[0];
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(c.args, [
      "dashboard",
      "--pipeline",
      "alpha",
      "--listen",
      "0.0.0.0:8090",
      "--tokens",
      "/etc/tradepipe/dashboard/tokens",
    ]);
    assert.equal(c.readinessProbe.httpGet.path, "/api/me");
    assert.ok(c.resources.limits.cpu && c.resources.limits.memory);
    // The database URL comes from the operator's Secret as a file, never as an env value, and
    // the server is verified against the operator's CA for the pipeline (TLS only).
    assert.deepEqual(c.env, [
      { name: "DATABASE_URL_FILE", value: "/var/run/secrets/tradepipe/database/uri" },
      { name: "DATABASE_CA_FILE", value: "/var/run/secrets/tradepipe/database-ca/ca.crt" },
    ]);
    const volumes = Object.fromEntries(pod.volumes.map((v: { name: string }) => [v.name, v]));
    assert.equal(volumes["database-url"].secret.secretName, "alpha-db-credentials");
    assert.equal(volumes["database-ca"].secret.secretName, "alpha-db-tls");
    assert.deepEqual(volumes["database-ca"].secret.items, [{ key: "ca.crt", path: "ca.crt" }]);
    assert.equal(volumes.tokens.secret.secretName, "tp-tradepipe-operator-dashboard-tokens");
  });

  it("stores only the token hashes, and serves the port through a Service", () => {
    const secret = find(rendered, "Secret", "tp-tradepipe-operator-dashboard-tokens");
    assert.ok(secret);
    assert.equal(
      secret.stringData.tokens.trim(),
      `operator olga ${HASH}\nviewer vera ${"b".repeat(64)}`,
    );
    const svc = find(rendered, "Service", "tp-tradepipe-operator-dashboard");
    assert.ok(svc);
    assert.equal(svc.spec.ports[0].port, 8090);
    assert.equal(svc.spec.selector["app.kubernetes.io/component"], "dashboard");
  });

  it("lets in only its port from the namespace (or the listed peers) and out only DNS and Postgres", async () => {
    const np = find(rendered, "NetworkPolicy", "tp-tradepipe-operator-dashboard");
    assert.ok(np);
    assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
    assert.equal(np.spec.podSelector.matchLabels["app.kubernetes.io/component"], "dashboard");
    assert.deepEqual(np.spec.ingress, [
      { ports: [{ port: 8090, protocol: "TCP" }], from: [{ podSelector: {} }] },
    ]);
    const ports = np.spec.egress.flatMap((e: { ports: { port: number }[] }) =>
      e.ports.map((p) => p.port),
    );
    assert.deepEqual(ports.sort(), [53, 53, 5432]);
    const narrowed = await helm.template([
      ...ON,
      "--set-json",
      'dashboard.allowFrom=[{"namespaceSelector":{"matchLabels":{"name":"ingress"}}}]',
      "--set-json",
      'dashboard.databaseCidrs=["10.1.2.0/24"]',
    ]);
    const np2 = find(narrowed, "NetworkPolicy", "tp-tradepipe-operator-dashboard")!;
    assert.deepEqual(np2.spec.ingress[0].from, [
      { namespaceSelector: { matchLabels: { name: "ingress" } } },
    ]);
    assert.deepEqual(np2.spec.egress[1].to, [{ ipBlock: { cidr: "10.1.2.0/24" } }]);
  });

  it("mounts the pipeline's spec when the chart installs that pipeline; an existing Secret replaces the tokens", async () => {
    const withPipeline = await helm.template([
      "--set",
      "pipeline.create=true",
      "--set",
      "pipeline.name=alpha",
      "--set",
      "dashboard.enabled=true",
      "--set",
      "dashboard.auth.existingSecret=my-tokens",
    ]);
    const cm = find(withPipeline, "ConfigMap", "tp-tradepipe-operator-dashboard-spec");
    assert.ok(cm, "no spec ConfigMap");
    const doc = parse(cm.data["pipeline.yaml"]);
    assert.equal(doc.kind, "TradingPipeline");
    assert.equal(doc.metadata.name, "alpha");
    const c = find(withPipeline, "Deployment", "tp-tradepipe-operator-dashboard")!.spec.template
      .spec.containers[0];
    assert.deepEqual(c.args.slice(0, 3), ["dashboard", "-f", "/etc/tradepipe/spec/pipeline.yaml"]);
    assert.equal(find(withPipeline, "Secret", "tp-tradepipe-operator-dashboard-tokens"), undefined);
    const vols = find(withPipeline, "Deployment", "tp-tradepipe-operator-dashboard")!.spec.template
      .spec.volumes;
    assert.equal(
      vols.find((v: { name: string }) => v.name === "tokens").secret.secretName,
      "my-tokens",
    );
  });
});
