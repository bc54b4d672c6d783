/**
 * Diagnostics channels of the market-data stage (node:diagnostics_channel), for benchmarks and
 * tracing tools that want to watch the hot path without the stage logging from it. Nothing is
 * published, and nothing is timed, unless a subscriber is attached.
 *
 * - `tradepipe:md.record`: a feed record (Alpaca wire object, `T`, `S`, ...) as it reaches the
 *   stage, before it is decoded; published synchronously, so a subscriber's clock reading is the
 *   moment the record arrived.
 * - `tradepipe:md.book-applied`: `{ symbol, ns }` after the core applied a book event, `ns` being
 *   the core's time for it. The object is reused: read it in the subscriber, don't keep it.
 */
import { channel } from "node:diagnostics_channel";

export const mdRecordChannel = channel("tradepipe:md.record");
export const mdBookAppliedChannel = channel("tradepipe:md.book-applied");

/** BookApplied is the message of `tradepipe:md.book-applied`. */
export interface BookApplied {
  symbol: string;
  ns: number;
}
