import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(fileURLToPath(new URL("../../../", import.meta.url)));
const GEN = join("services", "signal-bridge", "model", "gen", "onnx_pb.ts");

describe("onnx.proto code generation", () => {
  it("gen/onnx_pb.ts is current with onnx.proto", () => {
    const out = mkdtempSync(join(tmpdir(), "onnx-gen-"));
    try {
      const bin = join(repoRoot, "node_modules", ".bin");
      execFileSync(
        join(bin, "buf"),
        [
          "generate",
          "services/signal-bridge/model",
          "--template",
          "services/signal-bridge/model/buf.gen.yaml",
          "--output",
          out,
        ],
        {
          cwd: repoRoot,
          stdio: ["ignore", "ignore", "inherit"],
          env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
        },
      );
      assert.equal(
        readFileSync(join(out, GEN), "utf8"),
        readFileSync(join(repoRoot, GEN), "utf8"),
        "regenerate: npx buf generate services/signal-bridge/model --template services/signal-bridge/model/buf.gen.yaml",
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
