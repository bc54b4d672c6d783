/**
 * Subscription filters: an exact topic (`md.quote/AAPL`) or a prefix ending in `*`
 * (`md.quote/*`, `md.*`, `*`). `wireFilter` turns one into a ZeroMQ SUB prefix: an exact topic
 * gets the frame's 0x00 terminator, so `control` does not also match `controlx`.
 */
import { TradepipeError } from "../errors.ts";

export interface ParsedFilter {
  readonly text: string;
  readonly prefix: string;
  readonly exact: boolean;
}

export function parseFilter(text: string): ParsedFilter {
  const star = text.indexOf("*");
  if (star >= 0 && star !== text.length - 1) {
    throw new TradepipeError(
      "TP_ERR_INVALID_MESSAGE",
      `filter ${JSON.stringify(text)}: '*' may only end a filter`,
    );
  }
  if (star < 0 && text.length === 0) {
    throw new TradepipeError("TP_ERR_INVALID_MESSAGE", "filter \"\": use '*' to match every topic");
  }
  return star < 0
    ? { text, prefix: text, exact: true }
    : { text, prefix: text.slice(0, -1), exact: false };
}

export function matches(filter: ParsedFilter, topic: string): boolean {
  return filter.exact ? topic === filter.prefix : topic.startsWith(filter.prefix);
}

/** wireFilter is the byte prefix a prefix-filtering transport subscribes to. */
export function wireFilter(filter: ParsedFilter): Buffer {
  return Buffer.from(filter.exact ? `${filter.prefix}\0` : filter.prefix, "latin1");
}
