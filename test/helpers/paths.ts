import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The shared fixtures beside the checkout (goldens, reference vectors), as CI lays them out. */
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const GOLDENS = path.join(SHARED, 'fixtures', 'goldens');
export const REFERENCE = path.join(SHARED, 'reference');
export const STYLIST = path.join(ROOT, 'models', 'stylist');
export const PERSONAS = path.join(ROOT, 'personas');
export const CLI = path.join(ROOT, 'bin', 'persona.js');
