import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The test data the repository owns: transformers goldens and reference outputs (test/fixtures/README.md). */
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const GOLDENS = path.join(FIXTURES, 'goldens');
export const REFERENCE = path.join(FIXTURES, 'reference');
export const STYLIST = path.join(ROOT, 'models', 'stylist');
export const PERSONAS = path.join(ROOT, 'personas');
export const CLI = path.join(ROOT, 'bin', 'persona.js');
