import { readFileSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { dropCacheBuffers } from '../engine/cacheBuffers.js';

/**
 * The process's peak RSS over one phase: Linux keeps a high-water mark (VmHWM) that
 * `/proc/self/clear_refs` resets, so a phase's own peak is read without a second process. RSS, unlike
 * a time, does not move with the machine's load. Elsewhere: the process's peak so far.
 */

/** Resets the high-water mark (Linux); false where it cannot be reset (the peak is then the process's so far). */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false; // not Linux, or no permission: peakRssMib reports the process's peak so far
  }
}

/** Peak RSS in MiB since the last reset (or since the start). */
export function peakRssMib(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // no /proc: fall through to the process's peak
  }
  return process.resourceUsage().maxRSS / 1024;
}

let gc: (() => void) | undefined;
/** Lets the pooled cache buffers go and runs a full garbage collection (so the last phase's caches are not counted in the next one's RSS). */
export function collectGarbage(): void {
  dropCacheBuffers();
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * Runs `phase` and returns its result with the peak RSS reached while it ran (garbage collected first).
 *
 * @example const { value, peakMib } = await withPeakRss(() => generateBatch(session, rows, opts));
 */
export async function withPeakRss<T>(phase: () => Promise<T>): Promise<{ value: T; peakMib: number }> {
  collectGarbage();
  resetPeakRss();
  const value = await phase();
  return { value, peakMib: peakRssMib() };
}
