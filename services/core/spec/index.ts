/**
 * The TradingPipeline spec: schema, types, validation and loading. Import from here, not from
 * the files behind it.
 */
export * from "./constants.ts";
export { buildCrd, crdYaml, pipelineSpecJsonSchema } from "./crd.ts";
export { InvalidSpecError, loadPipelineFile, readPipelineFile } from "./load.ts";
export { type CelValidation, CROSS_FIELD_RULES, type CrossFieldRule } from "./rules.ts";
export * from "./schema.ts";
export {
  loadSectorMap,
  parseSectorMap,
  type SectorMapResult,
  symbolsWithoutSector,
} from "./sectors.ts";
export type { ParseResult, SpecError, SpecParseResult } from "./validate.ts";
export { defaultSpec, formatErrors, parsePipeline, parseSpec } from "./validate.ts";
