/**
 * args: the one argument parser of the subcommands. `parseCommand` parses with node:util's
 * parseArgs (strict: an unknown option is an error), answers `-h/--help` with the usage, checks
 * the required options, and on any problem prints `tradepipe <command>: <problem>` and the usage
 * to stderr. It returns the exit code to end with (0 after help, 2 for a usage error) or the
 * parsed arguments with typed readers. A command with actions (`tradepipe pause on|off|status`)
 * names them: exactly one word, one of those, comes before or among the options.
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
  /** action: the action word given (one of parseCommand's `actions`); "" for a command without. */
  action: string;
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
  required: readonly string[] | ((values: ArgValues, action: string) => readonly string[]) = [],
  actions: readonly string[] = [],
): CommandArgs | number {
  const refuse = (problem: string) => {
    process.stderr.write(`tradepipe ${command}: ${problem}\n\n${usage}`);
    return 2;
  };
  let values: ArgValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: actions.length > 0,
    }) as { values: ArgValues; positionals: string[] });
  } catch (err) {
    return refuse((err as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  const action = positionals[0] ?? "";
  if (actions.length > 0) {
    if (!actions.includes(action)) return refuse(`say ${wordList(actions)}`);
    if (positionals.length > 1) return refuse(`unexpected argument '${positionals[1]}'`);
  }
  for (const name of typeof required === "function" ? required(values, action) : required) {
    if (values[name] === undefined) return refuse(`--${name} is required`);
  }
  const str = (name: string) => {
    const v = values[name];
    return typeof v === "string" ? v : undefined;
  };
  return {
    values,
    action,
    str,
    need: (name) => str(name)!,
    flag: (name) => values[name] === true,
    list: (name) => {
      const v = values[name];
      return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
    },
  };
}

/** wordList: "a", "a or b", "a, b or c". */
function wordList(words: readonly string[]): string {
  return words.length === 1
    ? words[0]!
    : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}
