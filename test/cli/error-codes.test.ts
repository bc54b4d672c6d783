/** Every error code is documented in services/core/README.md, and every documented code exists. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { ErrorCodes } from "../../services/core/errors.ts";

test("the error-code table in services/core/README.md matches ErrorCodes", async () => {
  const readme = await readFile(new URL("../../services/core/README.md", import.meta.url), "utf8");
  const documented = [...readme.matchAll(/^\| `(TP_ERR_[A-Z_]+)` +\|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.keys(ErrorCodes).sort());
});
