import { InvalidArgumentError } from '../../errors.js';

/** Weight precisions the engine runs: float32 (exact), and 8- or 4-bit blocks through MatMulNBits. */
export type Precision = 'f32' | 'q8' | 'q4';
export const PRECISIONS: readonly Precision[] = ['f32', 'q8', 'q4'];

export function parsePrecision(p: string): Precision {
  if ((PRECISIONS as readonly string[]).includes(p)) return p as Precision;
  throw new InvalidArgumentError(`Unknown precision "${p}". Use one of: ${PRECISIONS.join(', ')}.`);
}
