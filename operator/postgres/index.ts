/** postgres: the pipeline's Postgres on Kubernetes — builders and the failover decision. */
export * from "./failover.ts";
export * from "./resources.ts";
