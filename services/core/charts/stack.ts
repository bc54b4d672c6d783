/**
 * stack: stackSvgs puts standalone chart documents one under the other in a single SVG (an
 * equity curve above its drawdown), each keeping its own coordinate system.
 */
import { el, escapeXml } from "./svg.ts";

const ROOT = /<svg\b([^>]*)>/;

/** stackSvgs stacks documents made by this module vertically; the width is the widest one's. */
export function stackSvgs(documents: readonly string[], title?: string): string {
  let y = 0;
  let width = 0;
  const parts: string[] = [];
  for (const doc of documents) {
    const body = doc.replace(/^<\?xml[^>]*\?>\s*/, "").trim();
    const attrs = ROOT.exec(body)?.[1] ?? "";
    const w = Number(/\bwidth="([\d.]+)"/.exec(attrs)?.[1]);
    const h = Number(/\bheight="([\d.]+)"/.exec(attrs)?.[1]);
    if (!Number.isFinite(w) || !Number.isFinite(h)) {
      throw new Error("stackSvgs: a document has no numeric width/height on its root <svg>");
    }
    parts.push(body.replace(ROOT, `<svg x="0" y="${y}"$1>`));
    y += h;
    width = Math.max(width, w);
  }
  const root = el(
    "svg",
    { xmlns: "http://www.w3.org/2000/svg", width, height: y, viewBox: `0 0 ${width} ${y}` },
    [...(title ? [el("title", {}, escapeXml(title))] : []), ...parts],
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}
