/**
 * logger: pino JSON logs, one line per event, with secrets kept out. Three layers (see
 * redact.ts): secret keys are censored anywhere in a logged object or child binding, pino's
 * redact paths censor them again at serialisation, and every finished line has connection-string
 * passwords masked before it reaches the destination, whatever field they hid in.
 */
import pino, { type DestinationStream, type Level, type Logger } from "pino";
import { CENSOR, maskSecretsInString, REDACT_PATHS, redactValue } from "./redact.ts";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** Component name, e.g. "risk-manager"; appears as `name` on every line. */
  name: string;
  /** Default: $TRADEPIPE_LOG_LEVEL, else "info". */
  level?: Level | "silent";
  /** Where lines go (default stdout). Tests pass a stream to capture them. */
  destination?: DestinationStream;
  /** Extra fields on every line (e.g. { stage, pipeline }). */
  base?: Record<string, unknown>;
}

const LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** createLogger builds the process's pino logger with tradepipe's redaction rules. */
export function createLogger(opts: LoggerOptions): Logger {
  const envLevel = process.env.TRADEPIPE_LOG_LEVEL;
  const level = opts.level ?? (envLevel && LEVELS.has(envLevel) ? envLevel : "info");
  const options: pino.LoggerOptions = {
    name: opts.name,
    level,
    base: { pid: process.pid, ...(opts.base ? (redactValue(opts.base) as object) : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    formatters: {
      bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (first !== null && typeof first === "object" && !(first instanceof Error)) {
          return method.apply(this, [redactValue(first), ...rest] as Parameters<typeof method>);
        }
        return method.apply(this, args);
      },
      streamWrite: maskSecretsInString,
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
