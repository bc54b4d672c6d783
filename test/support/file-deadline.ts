/**
 * file-deadline is preloaded into every test file's process by test/run-all.ts. Node's
 * --test-timeout fails a test that runs too long, but a file whose after() hook never returns
 * (a pool.end() waiting on a checked-out client, say) keeps its process alive, and CI hangs
 * instead of failing. This timer ends such a process with a message naming the file.
 * The timer is unref'd: it never keeps a finished file alive.
 */
const limitMs = Number(process.env.TRADEPIPE_TEST_FILE_TIMEOUT_MS ?? 20 * 60_000);

if (process.env.NODE_TEST_CONTEXT?.startsWith("child") && limitMs > 0) {
  const timer = setTimeout(() => {
    process.stderr.write(
      `\ntest file still running after ${limitMs} ms (TRADEPIPE_TEST_FILE_TIMEOUT_MS): ${process.argv[1]}\n` +
        "a hook or handle never finished; failing the file instead of hanging the run\n",
    );
    process.exit(1);
  }, limitMs);
  timer.unref();
}
