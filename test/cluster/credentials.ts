import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Layout } from "./components.ts";
import { renderKubeconfig, renderTokenFile, type TokenUser } from "./kubeconfig.ts";

function newToken(): string {
  return randomBytes(24).toString("hex");
}

/**
 * writeCredentials writes the apiserver's static token file and one kubeconfig per identity
 * (admin, controller-manager, scheduler, kwok); returns the admin token.
 */
export async function writeCredentials(layout: Layout, server: string, caPem: string) {
  const users: TokenUser[] = [
    { token: newToken(), user: "admin", uid: "uid-admin", groups: ["system:masters"] },
    { token: newToken(), user: "system:kube-controller-manager", uid: "uid-kcm", groups: [] },
    { token: newToken(), user: "system:kube-scheduler", uid: "uid-scheduler", groups: [] },
    // kwok plays every kubelet: it needs node, lease and pod status writes across namespaces.
    { token: newToken(), user: "kwok", uid: "uid-kwok", groups: ["system:masters"] },
  ];
  await writeFile(layout.tokenFile, renderTokenFile(users), { mode: 0o600 });
  const files: Record<string, string> = {
    admin: layout.adminKubeconfig,
    "system:kube-controller-manager": join(
      layout.kubeconfigs,
      "kube-controller-manager.kubeconfig",
    ),
    "system:kube-scheduler": join(layout.kubeconfigs, "kube-scheduler.kubeconfig"),
    kwok: join(layout.kubeconfigs, "kwok.kubeconfig"),
  };
  for (const u of users) {
    const kubeconfig = renderKubeconfig({ server, caPem, user: u.user, token: u.token });
    await writeFile(files[u.user], kubeconfig, { mode: 0o600 });
  }
  return users[0].token;
}
