/**
 * endpoints: where each stage's publisher binds and where its subscribers connect.
 * On one host the stages use `ipc://` sockets in a run directory; across pods, `tcp://`
 * through one Service per stage.
 */
import { join } from "node:path";
import type { StageProcess } from "./stages.ts";

/** BUS_PORT is the TCP port every stage's publisher binds in the distributed topology. */
export const BUS_PORT = 5555;

export interface Endpoints {
  bind(stage: StageProcess): string;
  connect(stage: StageProcess): string;
}

/**
 * ipcEndpoints keeps sockets in `runDir`. IMPORTANT: a Unix socket path must stay under 108
 * bytes, so run directories are short (see defaultRunDir).
 */
export function ipcEndpoints(runDir: string): Endpoints {
  const at = (stage: StageProcess) => `ipc://${join(runDir, `${stage}.sock`)}`;
  return { bind: at, connect: at };
}

/** tcpEndpoints binds every interface and connects to `<host(stage)>:BUS_PORT`. */
export function tcpEndpoints(host: (stage: StageProcess) => string, port = BUS_PORT): Endpoints {
  return {
    bind: () => `tcp://0.0.0.0:${port}`,
    connect: (stage) => `tcp://${host(stage)}:${port}`,
  };
}

/** parseEndpointsFlag reads `ipc:<dir>` or `tcp:<suffix>` as used on the stage command line. */
export function endpointsFromEnv(env: NodeJS.ProcessEnv): Endpoints {
  const tcpHostPattern = env.TRADEPIPE_BUS_TCP_HOSTS; // e.g. "{stage}.trading.svc"
  if (tcpHostPattern) {
    return tcpEndpoints((stage) => tcpHostPattern.replaceAll("{stage}", stage));
  }
  const runDir = env.TRADEPIPE_RUN_DIR;
  if (!runDir) {
    throw new Error("TRADEPIPE_RUN_DIR (ipc sockets) or TRADEPIPE_BUS_TCP_HOSTS must be set");
  }
  return ipcEndpoints(runDir);
}
