/**
 * loadPipelineFile reads and validates a TradingPipeline manifest file, for the CLI and the
 * local supervisor. readPipelineFile is the non-throwing form used by `tradepipe validate`.
 */
import { readFile } from "node:fs/promises";
import { TradepipeError } from "../errors.ts";
import type { TradingPipeline } from "./schema.ts";
import { formatErrors, type ParseResult, parsePipeline, type SpecError } from "./validate.ts";

/** InvalidSpecError carries every problem found, each with its path. */
export class InvalidSpecError extends TradepipeError {
  readonly errors: SpecError[];
  readonly file: string | undefined;
  constructor(errors: SpecError[], file?: string) {
    super(
      "TP_ERR_INVALID_SPEC",
      `${file ? `${file}: ` : ""}invalid TradingPipeline\n${formatErrors(errors)}`,
    );
    this.name = "InvalidSpecError";
    this.errors = errors;
    this.file = file;
  }
}

/** readPipelineFile returns the parse result, or one error when the file can't be read. */
export async function readPipelineFile(path: string): Promise<ParseResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : String(code ?? err);
    return { ok: false, errors: [{ path: "(file)", message: `cannot read ${path}: ${why}` }] };
  }
  return parsePipeline(text);
}

/** loadPipelineFile returns the pipeline with defaults applied, or throws InvalidSpecError. */
export async function loadPipelineFile(path: string): Promise<TradingPipeline> {
  const result = await readPipelineFile(path);
  if (!result.ok) throw new InvalidSpecError(result.errors, path);
  return result.pipeline;
}
