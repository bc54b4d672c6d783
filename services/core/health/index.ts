/** health: liveness, readiness and metrics over HTTP (see README.md). */
export {
  type CheckState,
  createReadiness,
  evaluateReadiness,
  type Readiness,
  type ReadinessReport,
  type ReadinessSource,
} from "./readiness.ts";
export {
  type HealthServer,
  type HealthServerOptions,
  type RouteHandler,
  startHealthServer,
} from "./server.ts";
