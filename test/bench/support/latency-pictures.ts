/**
 * latency-pictures: the benchmarks' latency histograms as pictures (SVG + PNG) beside the
 * printed percentiles, by default into test/bench/results/ (a representative set is committed
 * and shown in test/bench/README.md). The marked p50/p99/p99.9 are the ones the tables print.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { histogramSvg, svgToPng } from "../../../services/core/charts/index.ts";
import { type Percentiles, samplesOf } from "./pipeline-stats.ts";

export const RESULTS_DIR = fileURLToPath(new URL("../results/", import.meta.url));

export interface LatencyPicture {
  /** File name without extension (letters, digits, dashes). */
  file: string;
  title: string;
  /** Samples in nanoseconds. */
  samplesNs: readonly number[];
  /** The percentiles the benchmark printed, in nanoseconds. */
  p50: number;
  p99: number;
  p999: number;
  subtitle?: string;
}

/** slug turns a case name into a file name: "zmq-bus pinned" → "zmq-bus-pinned". */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/**
 * writeLatencyPictures writes <file>.svg and <file>.png for each picture into `dir` ("off"
 * writes nothing) and prints where; returns the paths written.
 */
export function writeLatencyPictures(
  pictures: readonly LatencyPicture[],
  dir: string = RESULTS_DIR,
  print: (line: string) => void = (line) => console.log(line),
): string[] {
  if (dir === "off") return [];
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const p of pictures) {
    if (p.samplesNs.length === 0) continue;
    const svg = histogramSvg({
      title: p.title,
      samples: p.samplesNs.map((ns) => ns / 1000),
      unit: "µs",
      percentiles: [
        { label: "p50", value: p.p50 / 1000 },
        { label: "p99", value: p.p99 / 1000 },
        { label: "p99.9", value: p.p999 / 1000 },
      ],
      ...(p.subtitle
        ? { subtitle: `${p.subtitle}; n = ${p.samplesNs.length.toLocaleString("en-US")}` }
        : {}),
    });
    for (const [ext, content] of [
      ["svg", svg],
      ["png", svgToPng(svg)],
    ] as const) {
      const path = join(dir, `${p.file}.${ext}`);
      writeFileSync(path, content);
      written.push(path);
    }
  }
  if (written.length > 0) print(`\nlatency histograms: ${written.length} files in ${dir}`);
  return written;
}

const NOFSYNC = " (commit without fsync, not a production setting)";
const PIPELINE_PATHS: Record<string, string> = {
  floorFused: "Floor: WebSocket in → undici POST out, one process",
  fused: "Fused pipeline: tick → order written",
  fusedNofsync: `Fused pipeline${NOFSYNC}`,
  floorProcesses: "Floor: WS in → 3 raw Unix-socket hops → undici POST, 4 processes",
  processesZmq: "Multi-process pipeline (ZeroMQ ipc://): tick → order written",
  processesZmqNofsync: `Multi-process pipeline (ZeroMQ ipc://)${NOFSYNC}`,
  processesUds: "Multi-process pipeline (Unix-socket bus): tick → order written",
  processesUdsNofsync: `Multi-process pipeline (Unix-socket bus)${NOFSYNC}`,
};

/** pipelinePictures: one histogram per measured tick → order path of pipeline.bench.ts. */
export function pipelinePictures(results: Record<string, unknown>): LatencyPicture[] {
  const out: LatencyPicture[] = [];
  for (const [key, title] of Object.entries(PIPELINE_PATHS)) {
    const e2e = (results[key] as { e2e?: Percentiles } | undefined)?.e2e;
    const samples = e2e ? samplesOf.get(e2e) : undefined;
    if (!e2e || !samples) continue;
    out.push({
      file: `pipeline-${slug(key.replace(/([A-Z])/g, "-$1"))}`,
      title,
      subtitle: "p50/p99/p99.9 from the HDR histogram the table prints",
      samplesNs: samples,
      p50: e2e.p50,
      p99: e2e.p99,
      p999: e2e.p999,
    });
  }
  return out;
}
