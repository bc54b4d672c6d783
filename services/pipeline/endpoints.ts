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
 * LocalTransport picks how stages on one host talk: `zmq` is ZeroMQ over `ipc://` (the
 * default); `uds` is the bus's own length-prefixed Unix-socket transport (`unix://`), which
 * measures about 1.1× a raw Unix socket per hop where ZeroMQ measures about 3× (see
 * test/bench/README.md).
 */
export type LocalTransport = "zmq" | "uds";

/**
 * ipcEndpoints keeps sockets in `runDir`. IMPORTANT: a Unix socket path must stay under 108
 * bytes, so run directories are short (local-run.ts makes them under /tmp).
 */
export function ipcEndpoints(runDir: string, transport: LocalTransport = "zmq"): Endpoints {
  const scheme = transport === "uds" ? "unix" : "ipc";
  const at = (stage: StageProcess) => `${scheme}://${join(runDir, `${stage}.sock`)}`;
  return { bind: at, connect: at };
}

/** tcpEndpoints binds every interface and connects to `<host(stage)>:BUS_PORT`. */
export function tcpEndpoints(host: (stage: StageProcess) => string, port = BUS_PORT): Endpoints {
  return {
    bind: () => `tcp://0.0.0.0:${port}`,
    connect: (stage) => `tcp://${host(stage)}:${port}`,
  };
}

/**
 * endpointsFromEnv reads a stage process's wiring: TRADEPIPE_BUS_TCP_HOSTS (a host pattern with
 * `{stage}`, between pods) or TRADEPIPE_RUN_DIR (+ TRADEPIPE_BUS_TRANSPORT) on one host.
 */
export function endpointsFromEnv(env: NodeJS.ProcessEnv): Endpoints {
  const tcpHostPattern = env.TRADEPIPE_BUS_TCP_HOSTS; // e.g. "{stage}.trading.svc"
  if (tcpHostPattern) {
    return tcpEndpoints((stage) => tcpHostPattern.replaceAll("{stage}", stage));
  }
  const runDir = env.TRADEPIPE_RUN_DIR;
  if (!runDir) {
    throw new Error("TRADEPIPE_RUN_DIR (ipc sockets) or TRADEPIPE_BUS_TCP_HOSTS must be set");
  }
  const transport = env.TRADEPIPE_BUS_TRANSPORT ?? "zmq";
  if (transport !== "zmq" && transport !== "uds") {
    throw new Error(`TRADEPIPE_BUS_TRANSPORT must be zmq or uds, not ${JSON.stringify(transport)}`);
  }
  return ipcEndpoints(runDir, transport);
}
