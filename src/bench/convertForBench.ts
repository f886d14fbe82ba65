import { ensureConverted } from '../engine/convert/convertWeights.js';
import type { Precision } from '../engine/convert/Precision.js';
import { loadConfig } from '../model/loadConfig.js';
import { ModelWeights } from '../model/safetensors/ModelWeights.js';
import type { ProgressCallback } from '../util/progress.js';

/** What converting a bench checkpoint cost, measured in a process that does nothing else. */
export interface ConversionCost {
  seconds: number;
  /** The converting process's peak RSS. */
  peak_rss_mib: number;
  /** False when the conversion cache already held this precision (nothing was converted). */
  converted: boolean;
}

/**
 * Converts the checkpoint in `dir` to `precision` in this process (or finds it converted) and
 * reports the time and this process's peak RSS: the size sweep runs it in a process of its own so the
 * measurement process after it loads a converted model, and its peak RSS is generation's alone.
 *
 * @example const cost = await convertForBench(dir, 'q4'); cost.peak_rss_mib;
 */
export async function convertForBench(dir: string, precision: Precision, onProgress?: ProgressCallback): Promise<ConversionCost> {
  const t0 = performance.now();
  let converted = false;
  const config = await loadConfig(dir);
  const weights = await ModelWeights.open(dir);
  await ensureConverted(dir, weights, config, precision, {
    onProgress: (p) => {
      converted = true;
      onProgress?.(p);
    },
  });
  return { seconds: (performance.now() - t0) / 1000, peak_rss_mib: process.resourceUsage().maxRSS / 1024, converted };
}
