import { Resvg } from '@resvg/resvg-js';
import { InvalidArgumentError } from '../../errors.js';
import { atomicWrite } from '../../util/atomicWrite.js';

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Output width in px (keeps the aspect ratio); default: the SVG's own size times `scale`. */
  width?: number;
  /** Zoom factor when no width is given (default 2, for sharp text). */
  scale?: number;
  /** Background colour (default: the SVG's own, which is white for our plots). */
  background?: string;
  /** Extra font files to load (e.g. a TTF shipped with an app where the system has none). */
  fontFiles?: string[];
  /** Load the system's fonts so text renders (default true). */
  loadSystemFonts?: boolean;
  /** Family used when none of the SVG's families is found. */
  defaultFontFamily?: string;
}

/**
 * Renders an SVG string to PNG bytes with resvg (no browser). Text needs fonts: the system's are
 * loaded by default, and `fontFiles` adds more.
 *
 * @example const png = svgToPng(lineChart(spec), { width: 1200 });
 */
export function svgToPng(svg: string, o: PngOptions = {}): Buffer {
  if (o.width !== undefined && !(o.width > 0)) throw new InvalidArgumentError(`PNG width must be positive, got ${o.width}`);
  const scale = o.scale ?? 2;
  if (!(scale > 0)) throw new InvalidArgumentError(`PNG scale must be positive, got ${scale}`);
  const resvg = new Resvg(svg, {
    fitTo: o.width !== undefined ? { mode: 'width', value: Math.round(o.width) } : { mode: 'zoom', value: scale },
    background: o.background,
    font: {
      loadSystemFonts: o.loadSystemFonts ?? true,
      fontFiles: o.fontFiles ?? [],
      ...(o.defaultFontFamily ? { defaultFontFamily: o.defaultFontFamily } : {}),
    },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/**
 * Renders an SVG to a PNG file, written atomically.
 *
 * @example await writePng('dose-response.png', svg);
 */
export async function writePng(file: string, svg: string, o: PngOptions = {}): Promise<void> {
  await atomicWrite(file, svgToPng(svg, o));
}
