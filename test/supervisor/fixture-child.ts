/** A child for the supervisor tests: "crash" exits 3 at once; "serve" reports status and waits. */
const mode = process.argv[2];
if (mode === "crash") {
  process.exit(3);
} else {
  process.send?.({ ready: true, pid: process.pid });
  setInterval(() => process.send?.({ ready: true, pid: process.pid }), 50);
  process.on("SIGTERM", () => process.exit(0));
}
