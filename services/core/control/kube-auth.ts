/**
 * kube-auth: the Kubernetes authenticator of the control listener. The caller sends a bearer
 * token made for this listener's audience (`kubectl create token <sa> --audience
 * tradepipe.io/control`); a TokenReview tells who it belongs to (a token made for another
 * audience, e.g. the API server's own, is refused, so a token sent here cannot be replayed
 * against the API server and the reverse), and a SubjectAccessReview asks whether that user may
 * do the named verb on the pipeline's subresource (by default `update` on
 * `tradingpipelines/killswitch` of this pipeline). Only then is the request served, with the
 * reviewed username as the principal.
 *
 * The stage's ServiceAccount needs `create` on tokenreviews and subjectaccessreviews (the
 * built-in ClusterRole `system:auth-delegator`).
 */
import type { KubeClient } from "../kube/client.ts";
import type { Authenticator } from "./server.ts";

export const CONTROL_AUDIENCE = "tradepipe.io/control";

export interface KubeAuthOptions {
  client: KubeClient;
  namespace: string;
  /** The TradingPipeline's name. */
  pipeline: string;
  verb?: string;
  subresource?: string;
  audience?: string;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
}

/** kubeAuthenticator: TokenReview (with the listener's audience), then SubjectAccessReview. */
export function kubeAuthenticator(opts: KubeAuthOptions): Authenticator {
  const audience = opts.audience ?? CONTROL_AUDIENCE;
  const verb = opts.verb ?? "update";
  const subresource = opts.subresource ?? "killswitch";
  return async (req) => {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      return {
        status: 401,
        error: `Authorization: send "Bearer <token>" (kubectl create token <serviceaccount> --audience ${audience})`,
      };
    }
    const review = await opts.client.request<{ status?: TokenReviewStatus }>(
      "POST",
      "/apis/authentication.k8s.io/v1/tokenreviews",
      {
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token: match[1], audiences: [audience] },
        },
      },
    );
    const status = review.status ?? {};
    const user = status.user;
    if (!status.authenticated || !user?.username || !(status.audiences ?? []).includes(audience)) {
      return {
        status: 401,
        error: `token refused${status.error ? `: ${status.error}` : ""} (it must be made for the audience ${audience})`,
      };
    }
    const access = await opts.client.request<{ status?: { allowed?: boolean; reason?: string } }>(
      "POST",
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: user.username,
            ...(user.uid ? { uid: user.uid } : {}),
            groups: user.groups ?? [],
            ...(user.extra ? { extra: user.extra } : {}),
            resourceAttributes: {
              namespace: opts.namespace,
              verb,
              group: "tradepipe.io",
              resource: "tradingpipelines",
              subresource,
              name: opts.pipeline,
            },
          },
        },
      },
    );
    if (!access.status?.allowed) {
      return {
        status: 403,
        error: `${user.username} may not ${verb} tradingpipelines/${subresource} ${opts.namespace}/${opts.pipeline}${access.status?.reason ? ` (${access.status.reason})` : ""}`,
      };
    }
    return { principal: { name: `kube:${user.username}` } };
  };
}
