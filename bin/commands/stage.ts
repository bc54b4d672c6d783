/**
 * tradepipe stage <name> [-f pipeline.yaml]: runs one stage as a process. Started by
 * `tradepipe run`, by the generated systemd units and in pods; it reads its wiring from the
 * environment (DATABASE_URL, TRADEPIPE_RUN_DIR or TRADEPIPE_BUS_TCP_HOSTS, broker keys).
 */
import { parseArgs } from "node:util";
import { loadPipelineFile } from "../../services/core/spec/index.ts";
import { runStageProcess } from "../../services/pipeline/stage-process.ts";
import { isStageProcess, STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { DEFAULT_PIPELINE_FILE } from "./run.ts";

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { file: { type: "string", short: "f" }, help: { type: "boolean", short: "h" } },
  });
  const name = positionals[0];
  if (values.help || !name) {
    process.stdout.write(
      `usage: tradepipe stage <${STAGE_PROCESSES.join("|")}> [-f pipeline.yaml]\n`,
    );
    return values.help ? 0 : 2;
  }
  if (!isStageProcess(name)) {
    process.stderr.write(
      `tradepipe stage: unknown stage "${name}" (one of ${STAGE_PROCESSES.join(", ")})\n`,
    );
    return 2;
  }
  const file = values.file ?? process.env.TRADEPIPE_SPEC_FILE ?? DEFAULT_PIPELINE_FILE;
  const pipeline = await loadPipelineFile(file);
  const code = await runStageProcess({ stage: name, pipeline, specFile: file });
  // Everything is closed by now; a handle a failed start left behind must not keep the process.
  setTimeout(() => process.exit(code), 2_000).unref();
  return code;
}
