import { stringify } from "yaml";

/** KubeconfigInput is everything a token-authenticated kubeconfig needs. */
export interface KubeconfigInput {
  server: string;
  /** caPem is the cluster CA certificate in PEM form. */
  caPem: string;
  user: string;
  token: string;
  /** namespace becomes the context's default namespace when given. */
  namespace?: string;
}

/** renderKubeconfig returns a kubeconfig with one cluster, one user and one current context. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const context: Record<string, string> = { cluster: "tradepipe-test", user: input.user };
  if (input.namespace) context.namespace = input.namespace;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "tradepipe-test",
        cluster: {
          server: input.server,
          "certificate-authority-data": Buffer.from(input.caPem).toString("base64"),
        },
      },
    ],
    users: [{ name: input.user, user: { token: input.token } }],
    contexts: [{ name: "tradepipe-test", context }],
    "current-context": "tradepipe-test",
    preferences: {},
  });
}

/** TokenUser is one line of the apiserver's --token-auth-file. */
export interface TokenUser {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

/** renderTokenFile renders the apiserver's static token file (token,user,uid,"group1,group2"). */
export function renderTokenFile(users: TokenUser[]): string {
  return users
    .map((u) => `${u.token},${u.user},${u.uid}${u.groups.length ? `,"${u.groups.join(",")}"` : ""}`)
    .join("\n")
    .concat("\n");
}
