import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Container, V1PodSpec, V1StatefulSet } from "@kubernetes/client-node";
import { parse } from "yaml";
import { parsePipeline, type TradingPipeline } from "../../services/core/spec/index.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { ANNOTATION_HASH, ANNOTATION_KILL_SWITCH } from "../api/names.ts";
import {
  buildDatabaseConfig,
  buildDatabasePdbs,
  buildDatabaseSecret,
  buildDatabaseServices,
  buildDatabaseStatefulSet,
} from "../postgres/resources.ts";
import { allContainers, type Manifest } from "./common.ts";
import { buildConfigMap, CONFIG_FILE } from "./config-map.ts";
import { buildNetworkPolicies } from "./network-policy.ts";
import {
  buildControlAuthBinding,
  buildRoleBindings,
  buildRoles,
  buildServiceAccounts,
  buildStageLeases,
} from "./rbac.ts";
import { buildBusCurveSecret } from "./secrets.ts";
import { buildSimulatorDeployment, buildSimulatorService } from "./simulator.ts";
import { CONTROL_PORT } from "./stage-pod.ts";
import {
  buildStagePdbs,
  buildStageService,
  buildStageServices,
  buildStageWorkload,
  buildStageWorkloads,
} from "./stage-workload.ts";

function pipeline(spec: Record<string, unknown> = {}): TradingPipeline {
  const r = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "alpha", namespace: "trading", uid: "uid-1", generation: 3 },
    spec: {
      placement: {
        nodeSelector: { "tradepipe.io/node-role": "trading" },
        tolerations: [
          { key: "tradepipe.io/trading", operator: "Equal", value: "true", effect: "NoSchedule" },
        ],
      },
      broker: {
        kind: "alpaca",
        credentialsSecretRef: { name: "alpaca-keys", keyIdKey: "id", secretKeyKey: "secret" },
      },
      ...spec,
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.pipeline;
}

const podSpec = (sts: V1StatefulSet) => sts.spec?.template.spec as V1PodSpec;
const env = (c: V1Container, name: string) => c.env?.find((e) => e.name === name);

function everyManifest(tp: TradingPipeline): Manifest[] {
  return [
    buildConfigMap(tp),
    ...buildStageWorkloads(tp),
    ...buildStageServices(tp),
    ...buildStagePdbs(tp),
    ...buildServiceAccounts(tp),
    ...buildRoles(tp),
    ...buildRoleBindings(tp),
    ...buildNetworkPolicies(tp),
    buildBusCurveSecret(tp, { publicKey: "p", secretKey: "s" }),
    ...buildStageLeases(tp, false),
    buildSimulatorDeployment(tp),
    buildSimulatorService(tp),
    buildDatabaseSecret(tp, { app: "pw", superuser: "su", replication: "rep", rewind: "rw" }),
    buildDatabaseConfig(tp),
    buildDatabaseStatefulSet(tp),
    ...buildDatabaseServices(tp),
    ...buildDatabasePdbs(tp),
  ];
}

test("every child is owned by the pipeline (controller reference) and labelled with it", () => {
  for (const m of everyManifest(pipeline())) {
    assert.equal(m.metadata.namespace, "trading", `${m.kind} ${m.metadata.name}`);
    assert.deepEqual(m.metadata.ownerReferences, [
      {
        apiVersion: "tradepipe.io/v1alpha1",
        kind: "TradingPipeline",
        name: "alpha",
        uid: "uid-1",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(m.metadata.labels["tradepipe.io/pipeline"], "alpha");
    assert.ok(m.metadata.name.length <= 63, m.metadata.name);
  }
});

test("every container of every pod is Guaranteed: whole CPUs, requests == limits", () => {
  const tp = pipeline({ stages: { riskManager: { resources: { cpu: 3, memory: "3Gi" } } } });
  const pods = [
    ...buildStageWorkloads(tp).map(podSpec),
    ...buildStageWorkloads(pipeline({ placement: { topology: "colocated" } })).map(podSpec),
    podSpec(buildDatabaseStatefulSet(tp)),
    buildSimulatorDeployment(tp).spec?.template.spec as V1PodSpec,
  ];
  let checked = 0;
  for (const pod of pods) {
    for (const c of allContainers(pod)) {
      const { requests, limits } = c.resources ?? {};
      assert.deepEqual(requests, limits, c.name);
      assert.match(String(requests?.cpu), /^[1-9][0-9]*$/, c.name);
      assert.ok(requests?.memory, c.name);
      checked++;
    }
  }
  assert.ok(checked >= 5 + 5 + 6 + 1 + 1);
  const risk = allContainers(podSpec(buildStageWorkload(tp, "risk-manager"))).find(
    (c) => c.name === "risk-manager",
  );
  assert.deepEqual(risk?.resources?.limits, { cpu: "3", memory: "3Gi" });
});

test("every container runs restricted; pods only on the trading nodes, spread across them", () => {
  const tp = pipeline();
  for (const sts of [...buildStageWorkloads(tp), buildDatabaseStatefulSet(tp)]) {
    const pod = podSpec(sts);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
    for (const c of allContainers(pod)) {
      const s = c.securityContext;
      assert.equal(s?.runAsNonRoot, true, c.name);
      assert.equal(s?.readOnlyRootFilesystem, true, c.name);
      assert.equal(s?.allowPrivilegeEscalation, false, c.name);
      assert.deepEqual(s?.capabilities?.drop, ["ALL"], c.name);
      assert.equal(s?.seccompProfile?.type, "RuntimeDefault", c.name);
    }
    assert.deepEqual(pod.nodeSelector, { "tradepipe.io/node-role": "trading" });
    assert.deepEqual(pod.tolerations, [
      { key: "tradepipe.io/trading", operator: "Equal", value: "true", effect: "NoSchedule" },
    ]);
    const spread = pod.topologySpreadConstraints?.[0];
    assert.equal(spread?.topologyKey, "kubernetes.io/hostname");
    assert.equal(spread?.whenUnsatisfiable, "DoNotSchedule");
    assert.deepEqual(spread?.labelSelector?.matchLabels, sts.spec?.selector.matchLabels);
  }
});

test("distributed: one StatefulSet and Service per stage, tcp:// through the Services", () => {
  const tp = pipeline({ stages: { executionEngine: { replicas: 3 } } });
  const workloads = buildStageWorkloads(tp);
  assert.deepEqual(
    workloads.map((w) => w.metadata.name),
    STAGE_PROCESSES.map((s) => `alpha-${s}`),
  );
  const ee = buildStageWorkload(tp, "execution-engine");
  assert.equal(ee.spec?.replicas, 3);
  assert.equal(ee.spec?.updateStrategy?.type, "OnDelete");
  const c = podSpec(ee).containers[0] as V1Container;
  assert.deepEqual(c.args, ["stage", "execution-engine", "-f", `/etc/tradepipe/${CONFIG_FILE}`]);
  assert.equal(env(c, "TRADEPIPE_BUS_TCP_HOSTS")?.value, "alpha-{stage}.trading.svc");
  assert.equal(env(c, "TRADEPIPE_RUN_DIR"), undefined);
  assert.equal(env(c, "TRADEPIPE_LEADERSHIP_GROUP"), undefined);
  assert.equal(env(c, "TRADEPIPE_HEALTH_HOST")?.value, "0.0.0.0");
  assert.equal(env(c, "TRADEPIPE_HEALTH_PORT")?.value, "9464");
  assert.equal(env(c, "TRADEPIPE_STAGE_LEASE")?.value, "alpha-execution-engine");
  // The database URL is a mounted file, never an environment variable.
  assert.equal(env(c, "DATABASE_URL"), undefined);
  assert.equal(env(c, "DATABASE_URL_FILE")?.value, "/var/run/secrets/tradepipe/database/uri");
  const dbMount = c.volumeMounts?.find((m) => m.name === "database-url");
  assert.deepEqual(
    [dbMount?.mountPath, dbMount?.readOnly],
    ["/var/run/secrets/tradepipe/database", true],
  );
  const dbVolume = podSpec(ee).volumes?.find((v) => v.name === "database-url");
  assert.deepEqual(dbVolume?.secret?.items, [{ key: "uri", path: "uri" }]);
  assert.equal(dbVolume?.secret?.secretName, "alpha-db-credentials");
  assert.equal(env(c, "POD_NAME")?.valueFrom?.fieldRef?.fieldPath, "metadata.name");
  assert.equal(c.livenessProbe?.httpGet?.path, "/health");
  assert.equal(c.readinessProbe?.httpGet?.path, "/ready");
  assert.deepEqual(
    c.ports?.map((p) => [p.name, p.containerPort]),
    [
      ["metrics", 9464],
      ["bus", 5555],
    ],
  );
  const annotations = ee.spec?.template.metadata?.annotations ?? {};
  assert.equal(annotations["prometheus.io/scrape"], "true");
  assert.equal(annotations["prometheus.io/port"], "9464");
  const svc = buildStageService(tp, "execution-engine");
  assert.deepEqual(svc.spec?.selector, ee.spec?.selector.matchLabels);
  assert.deepEqual(
    svc.spec?.ports?.map((p) => p.name),
    ["bus", "metrics"],
  );
});

test("broker keys come from the referenced Secret, mounted as the files the stage reads", () => {
  const pod = podSpec(buildStageWorkload(pipeline(), "market-data"));
  const vol = pod.volumes?.find((v) => v.name === "broker-credentials");
  assert.deepEqual(vol?.secret?.items, [
    { key: "id", path: "APCA_API_KEY_ID" },
    { key: "secret", path: "APCA_API_SECRET_KEY" },
  ]);
  const c = pod.containers[0] as V1Container;
  assert.equal(env(c, "TRADEPIPE_BROKER_SECRET_DIR")?.value, "/var/run/secrets/tradepipe/broker");
  assert.equal(env(c, "TRADEPIPE_SIM_URL"), undefined);
  const sim = podSpec(
    buildStageWorkload(pipeline({ broker: { kind: "simulator" } }), "market-data"),
  );
  assert.equal(
    env(sim.containers[0] as V1Container, "TRADEPIPE_SIM_URL")?.value,
    "http://alpha-sim.trading.svc:8730",
  );
});

test("colocated: one StatefulSet, five stage containers sharing an emptyDir for ipc:// sockets", () => {
  const tp = pipeline({ placement: { topology: "colocated" } });
  const [sts, ...rest] = buildStageWorkloads(tp);
  assert.equal(rest.length, 0);
  assert.equal(buildStageServices(tp).length, 0);
  assert.equal(sts?.metadata.name, "alpha-stages");
  assert.equal(sts?.spec?.replicas, 2);
  const pod = podSpec(sts as V1StatefulSet);
  assert.deepEqual(
    pod.containers.map((c) => c.name),
    [...STAGE_PROCESSES],
  );
  assert.equal(pod.volumes?.find((v) => v.name === "run")?.emptyDir?.medium, "Memory");
  const ports = pod.containers.map((c) => c.ports?.[0]);
  assert.deepEqual(
    ports.map((p) => p?.containerPort),
    [9464, 9465, 9466, 9467, 9468],
  );
  assert.equal(new Set(ports.map((p) => p?.name)).size, 5);
  for (const c of pod.containers) {
    assert.ok(c.ports?.[0]?.name?.startsWith("metrics"));
    assert.equal(env(c, "TRADEPIPE_RUN_DIR")?.value, "/run/tradepipe");
    // The pod's stages lead together: the group is the pod.
    assert.equal(
      env(c, "TRADEPIPE_LEADERSHIP_GROUP")?.valueFrom?.fieldRef?.fieldPath,
      "metadata.name",
    );
    assert.ok(c.volumeMounts?.some((m) => m.name === "run" && m.mountPath === "/run/tradepipe"));
  }
});

test("a spec change changes the pod template (rollout); a replica change does not", () => {
  const a = buildStageWorkload(pipeline(), "risk-manager");
  const b = buildStageWorkload(pipeline({ risk: { maxOpenPositions: 7 } }), "risk-manager");
  const c = buildStageWorkload(
    pipeline({ stages: { riskManager: { replicas: 3 } } }),
    "risk-manager",
  );
  assert.notDeepEqual(a.spec?.template, b.spec?.template);
  assert.deepEqual(a.spec?.template, c.spec?.template);
  assert.notEqual(
    a.metadata.annotations?.[ANNOTATION_HASH],
    c.metadata.annotations?.[ANNOTATION_HASH],
  );
});

test("the ConfigMap holds the complete spec the stages read", () => {
  const tp = pipeline({ killSwitch: true });
  const doc = parse(buildConfigMap(tp).data?.[CONFIG_FILE] ?? "");
  assert.equal(doc.kind, "TradingPipeline");
  assert.deepEqual(doc.metadata, { name: "alpha", namespace: "trading" });
  assert.deepEqual(doc.spec, tp.spec);
  assert.ok(parsePipeline(doc).ok);
});

test("each stage's identity may touch only its own Lease; the kill switch rides on the Leases", () => {
  const tp = pipeline();
  const roles = buildRoles(tp);
  assert.deepEqual(
    roles.map((r) => [r.metadata.name, r.rules?.[0]?.resourceNames]),
    STAGE_PROCESSES.map((s) => [`alpha-${s}`, [`alpha-${s}`]]),
  );
  for (const role of roles) {
    assert.equal(role.rules?.length, 1);
    assert.deepEqual(role.rules?.[0]?.resources, ["leases"]);
    assert.ok(!role.rules?.[0]?.verbs.includes("create"));
  }
  for (const stage of STAGE_PROCESSES) {
    const sts = buildStageWorkload(tp, stage);
    assert.equal(podSpec(sts).serviceAccountName, `alpha-${stage}`);
  }
  assert.deepEqual(
    buildRoleBindings(tp).map((b) => [b.roleRef.name, b.subjects?.[0]?.name]),
    STAGE_PROCESSES.map((s) => [`alpha-${s}`, `alpha-${s}`]),
  );
  // Colocated: one pod holds the five stages, so one identity holds the five Leases.
  const colocated = pipeline({ placement: { topology: "colocated" } });
  const [one, ...none] = buildRoles(colocated);
  assert.deepEqual(none, []);
  assert.equal(one?.metadata.name, "alpha-stages");
  assert.deepEqual(
    one?.rules?.[0]?.resourceNames,
    STAGE_PROCESSES.map((s) => `alpha-${s}`),
  );
  assert.equal(podSpec(buildStageWorkloads(colocated)[0]!).serviceAccountName, "alpha-stages");
  for (const lease of buildStageLeases(pipeline(), true)) {
    assert.equal(lease.metadata.annotations?.[ANNOTATION_KILL_SWITCH], "engaged");
  }
  for (const lease of buildStageLeases(pipeline(), false)) {
    assert.equal(lease.metadata.annotations?.[ANNOTATION_KILL_SWITCH], undefined);
  }
});

test("Postgres: rw and ro Services select by Patroni's role label, synchronous mode when asked", () => {
  const tp = pipeline();
  const [rw, ro] = buildDatabaseServices(tp);
  assert.equal(rw?.spec?.selector?.["tradepipe.io/db-role"], "primary");
  assert.equal(ro?.spec?.selector?.["tradepipe.io/db-role"], "replica");
  const conf = parse(buildDatabaseConfig(tp).data?.["patroni.yml"] ?? "");
  assert.equal(conf.kubernetes.role_label, "tradepipe.io/db-role");
  assert.equal(conf.kubernetes.leader_label_value, "primary");
  assert.equal(conf.bootstrap.dcs.synchronous_mode, true);
  assert.equal(conf.postgresql.remove_data_directory_on_rewind_failure, false);
  assert.equal(conf.bootstrap.dcs.postgresql.use_pg_rewind, true);
  const async = parse(
    buildDatabaseConfig(pipeline({ database: { synchronous: false } })).data?.["patroni.yml"] ?? "",
  );
  assert.equal(async.bootstrap.dcs.synchronous_mode, false);
  const sts = buildDatabaseStatefulSet(tp);
  assert.equal(sts.spec?.replicas, 2);
  assert.equal(sts.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage, "10Gi");
  const secret = buildDatabaseSecret(tp, {
    app: "p@ss",
    superuser: "su",
    replication: "rep",
    rewind: "rw",
  });
  assert.equal(secret.stringData?.["superuser-password"], "su");
  assert.equal(sts.spec?.template.spec?.containers[0]?.command?.[0], "patroni");
  assert.equal(
    secret.stringData?.uri,
    "postgres://tradepipe:p%40ss@alpha-db-rw.trading.svc:5432/tradepipe",
  );
});

test("simulator: generated keys and admin token, no ServiceAccount token; stages get the keys", () => {
  const tp = pipeline({ broker: { kind: "simulator" } });
  const pod = buildSimulatorDeployment(tp).spec?.template.spec as V1PodSpec;
  assert.equal(pod.automountServiceAccountToken, false);
  const args = pod.containers[0]?.args ?? [];
  assert.ok(args.includes("--keys-dir=/var/run/secrets/tradepipe/simulator"), args.join(" "));
  assert.ok(args.some((a) => a.startsWith("--admin-token-file=")));
  assert.equal(pod.volumes?.[0]?.secret?.secretName, "alpha-sim-credentials");
  const stage = podSpec(buildStageWorkload(tp, "execution-engine"));
  const keys = stage.volumes?.find((v) => v.name === "broker-credentials")?.secret;
  assert.equal(keys?.secretName, "alpha-sim-credentials");
  assert.deepEqual(
    keys?.items?.map((i) => i.key),
    ["APCA_API_KEY_ID", "APCA_API_SECRET_KEY"],
    "the admin token stays with the simulator",
  );
  const c = stage.containers[0] as V1Container;
  assert.equal(env(c, "TRADEPIPE_BROKER_SECRET_DIR")?.value, "/var/run/secrets/tradepipe/broker");
});

test("distributed stages mount the pipeline's bus key pair; colocated pods need none", () => {
  const stage = podSpec(buildStageWorkload(pipeline(), "risk-manager"));
  assert.equal(
    stage.volumes?.find((v) => v.name === "bus-curve")?.secret?.secretName,
    "alpha-bus-curve",
  );
  const c = stage.containers[0] as V1Container;
  assert.equal(env(c, "TRADEPIPE_BUS_CURVE_DIR")?.value, "/var/run/secrets/tradepipe/bus");
  const colocated = podSpec(
    buildStageWorkloads(pipeline({ placement: { topology: "colocated" } }))[0]!,
  );
  assert.equal(
    colocated.volumes?.find((v) => v.name === "bus-curve"),
    undefined,
  );
});

test("the risk-manager serves its authenticated control listener; only its ServiceAccount reviews tokens", () => {
  const tp = pipeline();
  for (const stage of STAGE_PROCESSES) {
    const c = podSpec(buildStageWorkload(tp, stage)).containers[0]!;
    const port = c.ports?.find((p) => p.name === "control");
    if (stage === "risk-manager") {
      assert.equal(env(c, "TRADEPIPE_CONTROL_PORT")?.value, String(CONTROL_PORT));
      assert.equal(port?.containerPort, CONTROL_PORT);
      // The listener authenticates through the API server in its own namespace.
      assert.equal(env(c, "POD_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath, "metadata.namespace");
    } else {
      assert.equal(env(c, "TRADEPIPE_CONTROL_PORT"), undefined, stage);
      assert.equal(port, undefined, stage);
    }
  }
  const service = buildStageService(tp, "risk-manager");
  assert.deepEqual(
    service.spec?.ports?.find((p) => p.name === "control"),
    { name: "control", port: CONTROL_PORT, targetPort: "control", protocol: "TCP" },
  );
  const binding = buildControlAuthBinding(tp);
  assert.equal(binding.metadata.name, "tradepipe:trading:alpha:control-auth");
  assert.deepEqual(binding.roleRef, {
    apiGroup: "rbac.authorization.k8s.io",
    kind: "ClusterRole",
    name: "system:auth-delegator",
  });
  assert.deepEqual(binding.subjects, [
    { kind: "ServiceAccount", name: "alpha-risk-manager", namespace: "trading" },
  ]);
  // Cluster-scoped: no namespaced owner (the garbage collector would never delete it); the
  // owner's uid and namespace are recorded for the operator, which deletes it.
  assert.deepEqual(binding.metadata.ownerReferences, []);
  assert.equal(binding.metadata.annotations?.["tradepipe.io/owner-uid"], "uid-1");
  assert.equal(binding.metadata.labels["tradepipe.io/namespace"], "trading");
  const colocated = pipeline({ placement: { topology: "colocated" } });
  assert.equal(buildControlAuthBinding(colocated).subjects?.[0]?.name, "alpha-stages");
  const rm = podSpec(buildStageWorkloads(colocated)[0]!).containers.find(
    (c) => c.name === "risk-manager",
  )!;
  assert.equal(env(rm, "TRADEPIPE_CONTROL_PORT")?.value, String(CONTROL_PORT));
});
