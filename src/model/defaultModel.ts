import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The package's root folder (works from src/ under vitest and from dist/ when installed). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The embedded default model: the stylist, a 5.2M-parameter Qwen3 chat model shipped in `models/stylist`. */
export const DEFAULT_MODEL_DIR = path.join(PACKAGE_ROOT, 'models', 'stylist');

/** Personas shipped for the embedded model. */
export const DEFAULT_PERSONAS_DIR = path.join(PACKAGE_ROOT, 'personas');
