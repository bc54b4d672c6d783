/**
 * args: the one argument parser of the subcommands. `parseCommand` parses with node:util's
 * parseArgs (strict: an unknown option is an error), answers `-h/--help` with the usage, checks
 * the required options, and on any problem prints `tradepipe <command>: <problem>` and the usage
 * to stderr. It returns the exit code to end with (0 after help, 2 for a usage error) or the
 * parsed arguments with typed readers.
 */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

/** SPEC_CATALOG_RANGE: the options naming a spec, a catalog and a date range (-f, --data, --from, --to). */
export const SPEC_CATALOG_RANGE = {
  file: { type: "string", short: "f" },
  data: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

export type ArgValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandArgs {
  values: ArgValues;
  /** str: a string option's value, or undefined when absent. */
  str(name: string): string | undefined;
  /** need: a required string option's value (checked by parseCommand). */
  need(name: string): string;
  flag(name: string): boolean;
  /** list: a `multiple` option's values ([] when absent). */
  list(name: string): string[];
}

export function parseCommand(
  command: string,
  usage: string,
  argv: string[],
  options: ParseArgsOptionsConfig,
  required: readonly string[] | ((values: ArgValues) => readonly string[]) = [],
): CommandArgs | number {
  let values: ArgValues;
  try {
    values = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
    }).values as ArgValues;
  } catch (err) {
    process.stderr.write(`tradepipe ${command}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  for (const name of typeof required === "function" ? required(values) : required) {
    if (values[name] === undefined) {
      process.stderr.write(`tradepipe ${command}: --${name} is required\n\n${usage}`);
      return 2;
    }
  }
  const str = (name: string) => {
    const v = values[name];
    return typeof v === "string" ? v : undefined;
  };
  return {
    values,
    str,
    need: (name) => str(name)!,
    flag: (name) => values[name] === true,
    list: (name) => {
      const v = values[name];
      return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
    },
  };
}
