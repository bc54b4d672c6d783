/**
 * control-listener: where a stage process serves its control routes, chosen from the
 * environment (see README.md):
 * - `TRADEPIPE_CONTROL_PORT` (pods): TCP on `TRADEPIPE_CONTROL_HOST` (default 0.0.0.0), every
 *   request authenticated by Kubernetes (TokenReview + SubjectAccessReview on the pipeline);
 * - else `TRADEPIPE_CONTROL_SOCKET`, or `<TRADEPIPE_RUN_DIR>/<stage>.control.sock` (one host):
 *   a Unix socket only its owner can open;
 * - else none (the process has no way to be controlled but the database).
 */
import { join } from "node:path";
import { kubeAuthenticator } from "../core/control/kube-auth.ts";
import {
  type ControlHandler,
  type ControlServer,
  startControlServer,
} from "../core/control/server.ts";
import { TradepipeError } from "../core/errors.ts";
import { createKubeClient, loadKubeConfig } from "../core/kube/client.ts";

/** controlSocketPath: the Unix socket of `name` under the run directory, or an explicit path. */
export function controlSocketPath(env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (env.TRADEPIPE_CONTROL_SOCKET) return env.TRADEPIPE_CONTROL_SOCKET;
  if (env.TRADEPIPE_RUN_DIR) return join(env.TRADEPIPE_RUN_DIR, `${name}.control.sock`);
  return undefined;
}

export async function startControlListener(
  env: NodeJS.ProcessEnv,
  name: string,
  pipeline: string,
  routes: Record<string, ControlHandler>,
): Promise<ControlServer | null> {
  if (env.TRADEPIPE_CONTROL_PORT) {
    const port = Number(env.TRADEPIPE_CONTROL_PORT);
    const namespace = env.POD_NAMESPACE;
    if (!Number.isInteger(port) || port < 0 || port > 65535 || !namespace) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        "TRADEPIPE_CONTROL_PORT needs a port number and POD_NAMESPACE (it authenticates through Kubernetes)",
      );
    }
    const client = await createKubeClient(loadKubeConfig(env.TRADEPIPE_KUBECONFIG));
    const server = await startControlServer({
      routes,
      tcp: {
        host: env.TRADEPIPE_CONTROL_HOST ?? "0.0.0.0",
        port,
        authenticate: kubeAuthenticator({ client, namespace, pipeline }),
      },
    }).catch(async (err: unknown) => {
      await client.close();
      throw err;
    });
    return {
      address: server.address,
      async close() {
        await server.close();
        await client.close();
      },
    };
  }
  const socketPath = controlSocketPath(env, name);
  return socketPath ? startControlServer({ routes, socketPath }) : null;
}
