/**
 * Streams a catalog's date range and prints the largest heap in use after any date (after a
 * full GC), and the records read. Run with --expose-gc. Usage: memory-child.ts DIR FROM TO SYMBOLS
 */
import { catalogSource } from "../../services/backtest/catalog/catalog.ts";

const [dir, from, to, symbols] = process.argv.slice(2) as [string, string, string, string];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
let peak = 0;
let records = 0;
let lastDay = "";
for await (const batch of catalogSource({
  dir,
  symbols: symbols.split(","),
  from,
  to,
  batchSize: 8192,
})) {
  records += batch.length;
  const day = new Date(Number(batch[0]!.exchangeNs / 1_000_000n)).toISOString().slice(0, 10);
  if (day !== lastDay) {
    lastDay = day;
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
}
process.stdout.write(`${peak} ${records}\n`);
