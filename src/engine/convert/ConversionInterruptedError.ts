import { PersonaError } from '../../errors.js';

/**
 * A weight conversion was stopped by Ctrl-C (SIGINT) or an abort signal; its temp file is gone and
 * the cache holds no half-converted weights, so the next run converts from the start.
 *
 * @example if (err instanceof ConversionInterruptedError) process.exitCode = 130;
 */
export class ConversionInterruptedError extends PersonaError {}
