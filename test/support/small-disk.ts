/**
 * small-disk: a real filesystem that runs out of space, for the "fill the disk" tests. A tmpfs
 * of a chosen size is mounted for the test (root: `.ci/run` runs the suite as root), and a
 * filler file takes every byte left on it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";

/** requireRoot fails the test with a clear message when it does not run as root. */
export function requireRoot(why: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${why} and needs root: run npm test as root, as .ci/run does`);
  }
}

/**
 * mountTmpfs mounts a tmpfs of `size` (mount(8)'s syntax: "512k", "96m") at `at`, creating the
 * directory, and returns what unmounts it (lazily: a test that failed with a file still open
 * must not leave the mount behind).
 */
export function mountTmpfs(at: string, size: string, mode = "0700"): () => void {
  mkdirSync(at, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=${mode}`, "tmpfs", at]);
  return () => execFileSync("umount", ["--lazy", at]);
}

/** fillDisk writes `dir/filler` until the filesystem refuses even a small block; returns it. */
export function fillDisk(dir: string): string {
  const path = join(dir, "filler");
  const fd = openSync(path, "w");
  try {
    for (const size of [1 << 20, 4096, 512]) {
      const block = Buffer.alloc(size, 0x55);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, "ENOSPC", "the filler stops at ENOSPC");
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
