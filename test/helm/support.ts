/**
 * support: helm (built from Go modules by test/cluster/build.sh) run without a cluster, with its
 * cache and config in a temporary directory, and helpers to read rendered manifests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { ensureBinaries } from "../cluster/binaries.ts";
import { type CommandOptions, type CommandResult, runTool } from "../cluster/commands.ts";
import type { Layout } from "../cluster/components.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CHART = join(ROOT, "charts/tradepipe-operator");

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field in tests
  [key: string]: any;
}

/** parseManifests reads a multi-document YAML stream, dropping empty documents. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null && typeof d === "object");
}

export interface OfflineHelm {
  run(args: string[], options?: CommandOptions): Promise<CommandResult>;
  /** template renders the chart with `args` (e.g. --set) and parses the result. */
  template(args?: string[]): Promise<Manifest[]>;
  close(): void;
}

/** offlineHelm: the cached helm binary with private HELM_* homes; needs no apiserver. */
export async function offlineHelm(): Promise<OfflineHelm> {
  const bin = join(await ensureBinaries(), "helm");
  const home = mkdtempSync(join(tmpdir(), "tp-helm-"));
  const layout = {
    adminKubeconfig: join(home, "no-kubeconfig"),
    kubectlCache: join(home, "kube-cache"),
    helmHome: home,
  } as Layout;
  const run = (args: string[], options?: CommandOptions) => runTool(bin, args, layout, options);
  return {
    run,
    async template(args = []) {
      const r = await run(["template", "tp", CHART, "--namespace", "tradepipe-system", ...args]);
      return parseManifests(r.stdout);
    },
    close: () => rmSync(home, { recursive: true, force: true }),
  };
}

export function find(manifests: Manifest[], kind: string, name?: string): Manifest | undefined {
  return manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
}
