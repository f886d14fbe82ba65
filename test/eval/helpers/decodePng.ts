import { inflateSync } from 'node:zlib';

/** An RGBA image. */
export interface Rgba {
  width: number;
  height: number;
  /** width × height × 4 bytes. */
  data: Uint8Array;
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Decodes a non-interlaced 8-bit PNG (greyscale, RGB, grey+alpha or RGBA) with node:zlib — enough for
 * screenshots from Chromium and resvg output, with no image library.
 */
export function decodePng(png: Uint8Array): Rgba {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  PNG_SIGNATURE.forEach((b, i) => {
    if (buf[i] !== b) throw new Error('not a PNG (bad signature)');
  });
  let off = 8,
    width = 0,
    height = 0,
    bitDepth = 0,
    colorType = 0,
    interlace = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      bitDepth = body[8];
      colorType = body[9];
      interlace = body[12];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (bitDepth !== 8 || !channels || interlace !== 0) throw new Error(`unsupported PNG: depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0,
        b = prev[i],
        c = i >= channels ? prev[i - channels] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c,
          pa = Math.abs(p - a),
          pb = Math.abs(p - b),
          pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`bad PNG filter ${filter}`);
      out[i] = v & 255;
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const [r, g, b, al] =
      channels === 1
        ? [pixels[s], pixels[s], pixels[s], 255]
        : channels === 2
          ? [pixels[s], pixels[s], pixels[s], pixels[s + 1]]
          : channels === 3
            ? [pixels[s], pixels[s + 1], pixels[s + 2], 255]
            : [pixels[s], pixels[s + 1], pixels[s + 2], pixels[s + 3]];
    data.set([r, g, b, al], p * 4);
  }
  return { width, height, data };
}

/** Pixel statistics that tell a drawn plot from a blank area. */
export function pixelStats(img: Rgba): { nonWhite: number; coloured: number; dark: number; distinct: number; total: number } {
  let nonWhite = 0,
    coloured = 0,
    dark = 0;
  const colours = new Set<number>();
  for (let p = 0; p < img.width * img.height; p++) {
    const r = img.data[p * 4],
      g = img.data[p * 4 + 1],
      b = img.data[p * 4 + 2],
      a = img.data[p * 4 + 3];
    if (a === 0) continue;
    colours.add((r << 16) | (g << 8) | b);
    if (r < 245 || g < 245 || b < 245) nonWhite++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
    if (r + g + b < 200) dark++;
  }
  return { nonWhite, coloured, dark, distinct: colours.size, total: img.width * img.height };
}
