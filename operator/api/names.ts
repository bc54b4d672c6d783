/**
 * names: every name, label and annotation the operator puts on the objects it owns, in one
 * place. Child names derive from the pipeline's name (at most MAX_NAME_LENGTH characters), so
 * `<pipeline>-position-tracker` and its pods' names stay within Kubernetes' limits.
 */
import { API_GROUP } from "../../services/core/spec/index.ts";
import type { StageProcess } from "../../services/pipeline/stages.ts";

/** FIELD_MANAGER is the one server-side-apply field manager of every write the operator makes. */
export const FIELD_MANAGER = "tradepipe-operator";
/** FINALIZER holds a deleted TradingPipeline until trading has halted. */
export const FINALIZER = `${API_GROUP}/finalizer`;

export const LABEL_PIPELINE = `${API_GROUP}/pipeline`;
export const LABEL_COMPONENT = `${API_GROUP}/component`;
export const LABEL_STAGE = `${API_GROUP}/stage`;
/** LABEL_DB_ROLE on a Postgres pod: primary or replica, written by Patroni (role_label); the Services select on it. */
export const LABEL_DB_ROLE = `${API_GROUP}/db-role`;
/**
 * LABEL_NAMESPACE on a cluster-scoped child (it has no namespace of its own): the namespace of
 * the pipeline it belongs to, so its events find the pipeline.
 */
export const LABEL_NAMESPACE = `${API_GROUP}/namespace`;
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_INSTANCE = "app.kubernetes.io/instance";

/** ANNOTATION_HASH is the digest of the desired object; an equal digest skips the apply. */
export const ANNOTATION_HASH = `${API_GROUP}/desired-hash`;
// The stage Lease protocol (fencing epoch, kill-switch request, halt acknowledgement) belongs to
// the stages' side, which must not import the operator.
export {
  ANNOTATION_FENCING_EPOCH,
  ANNOTATION_HALTED,
  ANNOTATION_KILL_SWITCH,
} from "../../services/core/kube/lease-annotations.ts";
/**
 * ANNOTATION_OWNER_UID on a cluster-scoped child: the uid of the pipeline that controls it. A
 * cluster-scoped object may not name a namespaced owner (the garbage collector would never
 * delete it), so the operator records the owner here and deletes the object itself.
 */
export const ANNOTATION_OWNER_UID = `${API_GROUP}/owner-uid`;
/** ANNOTATION_SWITCHOVER on a TradingPipeline: the name of a standby pod to promote. */
export const ANNOTATION_SWITCHOVER = `${API_GROUP}/switchover-to`;

export type Component = "stage" | "stages" | "database" | "simulator" | "network";

export function stageWorkloadName(pipeline: string, stage: StageProcess): string {
  return `${pipeline}-${stage}`;
}
/** colocatedWorkloadName is the one Deployment that holds all five stages. */
export function colocatedWorkloadName(pipeline: string): string {
  return `${pipeline}-stages`;
}
export function stageServiceName(pipeline: string, stage: StageProcess): string {
  return `${pipeline}-${stage}`;
}
/** stageLeaseName is the coordination.k8s.io Lease electing a stage's active instance. */
export function stageLeaseName(pipeline: string, stage: StageProcess): string {
  return `${pipeline}-${stage}`;
}
export function configMapName(pipeline: string): string {
  return `${pipeline}-config`;
}
/**
 * stageServiceAccountName: each stage of a distributed pipeline has its own identity (it may
 * touch only its own Lease); the pods of a colocated pipeline hold all five stages, so they have
 * one identity for the five (`all`).
 */
export function stageServiceAccountName(pipeline: string, stage: StageProcess | "all"): string {
  return stage === "all" ? colocatedWorkloadName(pipeline) : `${pipeline}-${stage}`;
}
export function databaseName(pipeline: string): string {
  return `${pipeline}-db`;
}
export function databaseServiceName(pipeline: string, access: "rw" | "ro"): string {
  return `${pipeline}-db-${access}`;
}
export function databaseSecretName(pipeline: string): string {
  return `${pipeline}-db-credentials`;
}
export function simulatorName(pipeline: string): string {
  return `${pipeline}-sim`;
}
/** busCurveSecretName holds the pipeline's CURVE key pair for the ZeroMQ bus. */
export function busCurveSecretName(pipeline: string): string {
  return `${pipeline}-bus-curve`;
}
/** simulatorSecretName holds the simulator's generated API keys and admin token. */
export function simulatorSecretName(pipeline: string): string {
  return `${pipeline}-sim-credentials`;
}

/**
 * controlAuthBindingName: the ClusterRoleBinding that lets the risk-manager's ServiceAccount ask
 * the API server who a caller of its control listener is (cluster-wide names: the namespace is in
 * it).
 */
export function controlAuthBindingName(namespace: string, pipeline: string): string {
  return `tradepipe:${namespace}:${pipeline}:control-auth`;
}

/** commonLabels are on every child object (and the pods), so one selector finds them all. */
export function commonLabels(pipeline: string, component: Component): Record<string, string> {
  return {
    [LABEL_NAME]: "tradepipe",
    [LABEL_INSTANCE]: pipeline,
    [LABEL_MANAGED_BY]: FIELD_MANAGER,
    [LABEL_PIPELINE]: pipeline,
    [LABEL_COMPONENT]: component,
  };
}
