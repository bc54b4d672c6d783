/**
 * config-map: the pipeline's spec rendered as the file every stage reads
 * (`tradepipe stage <name> -f /etc/tradepipe/pipeline.yaml`). The apiserver has already filled in
 * every default, so the file is the complete spec.
 */
import type { V1ConfigMap } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { API_VERSION, KIND, type TradingPipeline } from "../../services/core/spec/index.ts";
import { commonLabels, configMapName } from "../api/names.ts";
import { digest, type Manifest, namespaceOf, ownerReference, withDigest } from "./common.ts";

export const CONFIG_FILE = "pipeline.yaml";
export const CONFIG_DIR = "/etc/tradepipe";

/** renderPipelineFile is the file's text: only what a stage reads (no status, no managedFields). */
export function renderPipelineFile(tp: TradingPipeline): string {
  const doc = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: tp.metadata.name, namespace: namespaceOf(tp) },
    spec: tp.spec,
  };
  return stringify(doc, { lineWidth: 0 });
}

/**
 * configDigest changes when a setting the stage processes act on changes; pod templates carry it
 * so such a change rolls out. `stages` (replicas; resources are in the template itself) and
 * `database` (the operator's business) are left out: scaling must not restart the stages.
 */
export function configDigest(tp: TradingPipeline): string {
  const { stages: _stages, database: _database, ...rest } = tp.spec;
  return digest({ name: tp.metadata.name, spec: rest });
}

export function buildConfigMap(tp: TradingPipeline): V1ConfigMap & Manifest {
  const name = tp.metadata.name;
  return withDigest({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: configMapName(name),
      namespace: namespaceOf(tp),
      labels: commonLabels(name, "stages"),
      ownerReferences: [ownerReference(tp)],
    },
    data: { [CONFIG_FILE]: renderPipelineFile(tp) },
  });
}
