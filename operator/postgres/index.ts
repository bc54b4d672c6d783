/** postgres: the pipeline's Postgres on Kubernetes under Patroni — builders and Patroni's view. */
export * from "./database-rollout.ts";
export * from "./patroni-settings.ts";
export * from "./patroni-state.ts";
export * from "./resources.ts";
