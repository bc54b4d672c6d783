/**
 * png: svgToPng rasterises a chart with resvg (a Rust SVG renderer shipped as a prebuilt
 * binary inside its npm package), so a picture can be embedded where SVG is not shown.
 * Text needs a font: the system's fonts are loaded, DejaVu Sans preferred (Debian's default).
 */
import { Resvg } from "@resvg/resvg-js";

export interface PngOptions {
  /** Output width in pixels (default: the SVG's own width, i.e. scale 1). */
  width?: number;
}

/** svgToPng returns PNG bytes for an SVG document. */
export function svgToPng(svg: string, opts: PngOptions = {}): Buffer {
  const renderer = new Resvg(svg, {
    background: "#ffffff",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    ...(opts.width ? { fitTo: { mode: "width" as const, value: opts.width } } : {}),
  });
  return renderer.render().asPng();
}
