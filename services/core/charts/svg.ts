/**
 * svg: the few building blocks every chart shares — escaping, number formatting that gives the
 * same text on every machine, element strings, and the page frame (title, subtitle, legend).
 */

/** escapeXml makes text safe inside an element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** num writes a coordinate with at most two decimals and no "-0", so output is byte-stable. */
export function num(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

export type Attrs = Record<string, string | number | undefined>;

/** el renders one element; numbers go through num(), strings are escaped, undefined is dropped. */
export function el(name: string, attrs: Attrs, children?: string | readonly string[]): string {
  const parts = [name];
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    parts.push(`${key}="${typeof value === "number" ? num(value) : escapeXml(value)}"`);
  }
  const open = parts.join(" ");
  if (children === undefined) return `<${open}/>`;
  const inner = typeof children === "string" ? children : children.join("\n");
  return `<${open}>${inner}</${name}>`;
}

/** text renders a <text> element whose content is escaped. */
export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el("text", { x, y, ...attrs }, escapeXml(content));
}

export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** PALETTE: distinguishable colours (Okabe–Ito), taken in order by series and markers. */
export const PALETTE = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
] as const;

export function colorAt(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

export interface LegendItem {
  label: string;
  color: string;
  /** "line" draws a short stroke, "dash" a dashed one, "box" a filled square. */
  mark: "line" | "dash" | "box";
}

/** legendLayout places items left to right from (x, y), wrapping at maxX; rows is the count. */
export function legendLayout(
  items: readonly LegendItem[],
  x: number,
  y: number,
  maxX: number,
): { positions: Array<{ x: number; y: number }>; rows: number } {
  const positions: Array<{ x: number; y: number }> = [];
  let cx = x;
  let cy = y;
  let rows = items.length > 0 ? 1 : 0;
  for (const item of items) {
    const width = 22 + approxTextWidth(item.label, 11) + 16;
    if (cx + width > maxX && cx > x) {
      cx = x;
      cy += LEGEND_ROW;
      rows += 1;
    }
    positions.push({ x: cx, y: cy });
    cx += width;
  }
  return { positions, rows };
}

export const LEGEND_ROW = 16;

/** legend draws the items where legendLayout placed them. */
export function legend(items: readonly LegendItem[], x: number, y: number, maxX: number): string {
  const { positions } = legendLayout(items, x, y, maxX);
  const out = items.map((item, i) => {
    const { x: cx, y: cy } = positions[i]!;
    const swatch =
      item.mark === "box"
        ? el("rect", { x: cx, y: cy - 8, width: 14, height: 10, fill: item.color })
        : el("line", {
            x1: cx,
            y1: cy - 3,
            x2: cx + 16,
            y2: cy - 3,
            stroke: item.color,
            "stroke-width": 2,
            "stroke-dasharray": item.mark === "dash" ? "4 3" : undefined,
          });
    return el("g", { class: "legend-item" }, [
      swatch,
      text(cx + 22, cy, item.label, { "font-size": 11 }),
    ]);
  });
  return el("g", { class: "legend" }, out);
}

/** approxTextWidth estimates rendered width (no font metrics here): enough for layout. */
export function approxTextWidth(content: string, fontSize: number): number {
  return content.length * fontSize * 0.6;
}

export interface FrameOptions {
  width: number;
  height: number;
  title: string;
  subtitle?: string;
  /** Accessible description (the figures in words). */
  description?: string;
}

/** frame wraps chart content in the root <svg> with a white background, title and subtitle. */
export function frame(opts: FrameOptions, content: readonly string[]): string {
  // The title comes first: screen readers and linters take the first <title> child as the name.
  const head = [
    el("title", {}, escapeXml(opts.title)),
    opts.description ? el("desc", {}, escapeXml(opts.description)) : "",
    el("rect", { width: opts.width, height: opts.height, fill: "#ffffff" }),
    text(16, 24, opts.title, { "font-size": 16, "font-weight": "bold", class: "title" }),
    opts.subtitle
      ? text(16, 42, opts.subtitle, { "font-size": 11, fill: "#444444", class: "subtitle" })
      : "",
  ].filter(Boolean);
  const root = el(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      width: opts.width,
      height: opts.height,
      viewBox: `0 0 ${opts.width} ${opts.height}`,
      "font-family": FONT,
    },
    [...head, ...content],
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}
