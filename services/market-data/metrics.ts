/**
 * marketDataMetrics creates the market-data stage's metrics once and binds the labelled children
 * the hot path uses, so counting a message is one increment with no label lookup.
 */
import type { Metrics } from "../core/telemetry/index.ts";

export function marketDataMetrics(m: Metrics) {
  const inbound = m.counter("md_messages_in_total", "Feed records received, by type.", ["type"]);
  const outbound = m.counter("md_messages_out_total", "Messages published on the bus, by type.", [
    "type",
  ]);
  return {
    inQuote: inbound.labels("quote"),
    inTrade: inbound.labels("trade"),
    inBook: inbound.labels("book"),
    inOther: inbound.labels("other"),
    outQuote: outbound.labels("quote"),
    outTrade: outbound.labels("trade"),
    outSnapshot: outbound.labels("book_snapshot"),
    outDelta: outbound.labels("book_delta"),
    invalid: m.counter("md_invalid_messages_total", "Feed records that could not be decoded."),
    quotesRejected: m.counter("md_quotes_rejected_total", "Crossed quotes refused by the core."),
    resyncs: m.counter("md_resyncs_total", "Book resyncs requested, by reason.", ["reason"]),
    disconnects: m.counter("md_feed_disconnects_total", "Market-data stream disconnections."),
    bookUpdate: m.latencyHistogram(
      "md_book_update_latency_seconds",
      "Time the core takes to apply one L2 book event.",
    ),
    staleSymbols: m.gauge(
      "md_stale_symbols",
      "Symbols whose last event lags the feed's newest event by more than the stale limit.",
    ),
    booksResyncing: m.gauge("md_books_resyncing", "Books waiting for a fresh snapshot."),
  };
}
