/**
 * The risk-manager's control listener in a pod, against a real kube-apiserver: a caller is
 * served only with a token made for the listener's audience whose user may `update`
 * `tradingpipelines/killswitch` of this very pipeline (TokenReview + SubjectAccessReview); a
 * token for the API server, a user without the grant, a grant for another pipeline, no token, a
 * foreign Origin and a non-JSON body are all refused. The CLI reaches it with a token file.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { main as killSwitchCommand } from "../../bin/commands/kill-switch.ts";
import { callControl } from "../../services/core/control/client.ts";
import { CONTROL_AUDIENCE, kubeAuthenticator } from "../../services/core/control/kube-auth.ts";
import {
  type ControlHandler,
  type ControlServer,
  startControlServer,
} from "../../services/core/control/server.ts";
import {
  createKubeClient,
  type KubeClient,
  loadKubeConfig,
} from "../../services/core/kube/client.ts";
import { type ControlPlane, startControlPlane } from "../cluster/controlplane.ts";

let cluster: ControlPlane;
let client: KubeClient;
let alpha: ControlServer;
let beta: ControlServer;
let dir: string;
let engaged = true;

const routes: Record<string, ControlHandler> = {
  "GET /kill-switch": (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ engaged, reason: "test" }));
  },
  "POST /kill-switch": (_req, res, principal) => {
    engaged = false;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ engaged, reason: principal.name }));
  },
};

before(async () => {
  cluster = await startControlPlane({ nodes: [] });
  dir = await mkdtemp(join(tmpdir(), "tp-kube-auth-"));
  await cluster.kubectl(["apply", "-f", "-"], {
    input: `
apiVersion: v1
kind: ServiceAccount
metadata: {name: ops, namespace: default}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: viewer, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: alpha-killswitch, namespace: default}
rules:
  - apiGroups: [tradepipe.io]
    resources: [tradingpipelines/killswitch]
    resourceNames: [alpha]
    verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ops-alpha-killswitch, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: alpha-killswitch}
subjects: [{kind: ServiceAccount, name: ops, namespace: default}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: risk-manager, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: risk-manager-auth-delegator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{kind: ServiceAccount, name: risk-manager, namespace: default}]
`,
  });
  // The listener runs with the stage's own ServiceAccount, as in a pod.
  const kubeconfig = await cluster.createServiceAccountKubeconfig("default", "risk-manager");
  client = await createKubeClient(loadKubeConfig(kubeconfig));
  const listen = (pipeline: string) =>
    startControlServer({
      routes,
      tcp: {
        host: "127.0.0.1",
        port: 0,
        authenticate: kubeAuthenticator({ client, namespace: "default", pipeline }),
      },
    });
  alpha = await listen("alpha");
  beta = await listen("beta");
});

after(async () => {
  await alpha?.close();
  await beta?.close();
  await client?.close();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function token(sa: string, audience?: string): Promise<string> {
  const args = ["create", "token", sa, "-n", "default", "--duration", "10m"];
  if (audience) args.push("--audience", audience);
  return (await cluster.kubectl(args)).stdout.trim();
}

function raw(url: string, headers: Record<string, string>, body = "{}"): Promise<number> {
  const u = new URL("/kill-switch", url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

test("only a token for the listener's audience, of a user granted this pipeline's killswitch, is served", async () => {
  const good = await token("ops", CONTROL_AUDIENCE);
  const json = { "content-type": "application/json" };

  // The attacks: no token, a token for the API server, a user without the grant, the grant of
  // another pipeline, a browser page's request with a good token.
  assert.equal(await raw(alpha.address, json), 401);
  assert.equal(
    await raw(alpha.address, { ...json, authorization: `Bearer ${await token("ops")}` }),
    401,
  );
  const viewer = await token("viewer", CONTROL_AUDIENCE);
  assert.equal(await raw(alpha.address, { ...json, authorization: `Bearer ${viewer}` }), 403);
  assert.equal(await raw(beta.address, { ...json, authorization: `Bearer ${good}` }), 403);
  assert.equal(
    await raw(alpha.address, {
      ...json,
      authorization: `Bearer ${good}`,
      origin: "https://evil.example",
    }),
    403,
  );
  assert.equal(
    await raw(alpha.address, { "content-type": "text/plain", authorization: `Bearer ${good}` }),
    415,
  );
  assert.equal(engaged, true, "nothing was released");

  const ok = await callControl({ url: alpha.address, token: good }, "POST", "/kill-switch", {
    engaged: false,
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.reason, "kube:system:serviceaccount:default:ops");
  assert.equal(engaged, false);
});

test("tradepipe kill-switch reaches a pod's listener with a token file", async () => {
  const file = join(dir, "token");
  await writeFile(file, `${await token("ops", CONTROL_AUDIENCE)}\n`, { mode: 0o600 });
  engaged = true;
  const code = await killSwitchCommand(["status", "--url", alpha.address, "--token-file", file]);
  assert.equal(code, 0);
  await writeFile(file, `${await token("viewer", CONTROL_AUDIENCE)}\n`, { mode: 0o600 });
  assert.equal(
    await killSwitchCommand(["off", "--url", alpha.address, "--token-file", file]),
    1,
    "refused for a user without the grant",
  );
  assert.equal(engaged, true);
});
