import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { defaultClusterDir } from "./components.ts";
import { readControlPlaneState, stopControlPlaneAt } from "./controlplane.ts";

const usage = `usage: npm run cluster:down [-- --dir DIR] [--keep]
Stops the control plane started by npm run cluster:up and removes its state directory
(--keep leaves the directory, with its logs, in place).`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: "string" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const dir = values.dir ?? defaultClusterDir();
  if (!(await readControlPlaneState(dir))) {
    console.log(`No control plane state in ${dir}; nothing to stop.`);
    return 0;
  }
  const stopped = await stopControlPlaneAt(dir);
  if (!values.keep) await rm(dir, { recursive: true, force: true });
  console.log(`Stopped ${stopped} component(s)${values.keep ? `; state kept in ${dir}` : ""}.`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`cluster:down: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
