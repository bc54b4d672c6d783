/**
 * cpu-plan assigns each stage its own CPUs on a host, in pipeline order and without overlap,
 * from the spec's whole-core requests. CPU 0 (and any below `firstCpu`) is left to the kernel,
 * Postgres and everything else, as on a trading host with isolated cores.
 */
import { STAGE_NAMES, type TradingPipeline } from "../services/core/spec/index.ts";
import { STAGE_PROCESS, type StageProcess } from "../services/pipeline/stages.ts";

export interface CpuPlanOptions {
  /** First CPU handed to a stage (default 1). */
  firstCpu?: number;
  /** CPUs on the host; an assignment past it is an error (default: no check). */
  hostCpus?: number;
}

export type CpuPlan = ReadonlyMap<StageProcess, readonly number[]>;

export class CpuPlanError extends Error {}

export function planCpus(pipeline: TradingPipeline, opts: CpuPlanOptions = {}): CpuPlan {
  let next = opts.firstCpu ?? 1;
  const plan = new Map<StageProcess, number[]>();
  for (const name of STAGE_NAMES) {
    const count = pipeline.spec.stages[name].resources.cpu;
    const cpus = Array.from({ length: count }, (_, i) => next + i);
    next += count;
    plan.set(STAGE_PROCESS[name], cpus);
  }
  if (opts.hostCpus !== undefined && next > opts.hostCpus) {
    throw new CpuPlanError(
      `the stages need CPUs ${opts.firstCpu ?? 1}..${next - 1}, but the host has ${opts.hostCpus} (0..${opts.hostCpus - 1}); lower spec.stages.*.resources.cpu or --first-cpu`,
    );
  }
  return plan;
}
