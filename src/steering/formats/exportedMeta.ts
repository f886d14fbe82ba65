import { PersonaFileError } from '../../errors.js';
import type { PersonaMeta, PersonaVector } from '../PersonaVector.js';
import { withReadKey } from '../PersonaVector.js';

export const EXPORT_FORMAT = 'persona-vectors/export@1';

/**
 * What an exported vector file says about the persona beside its tensors (a GGUF metadata key, or
 * the JSON sidecar of a persona_vectors file): the whole persona record — name, description,
 * recommended layer(s), alpha range, units, per-layer norms — and which layers the file holds.
 *
 * @example const m: ExportedMeta = exportedMeta(formal, [1]); m.meta.recommendedLayer; // 1
 */
export interface ExportedMeta {
  format: typeof EXPORT_FORMAT;
  /** Alpha multiplies the stored vectors as they are ("gap" units: the raw positive − negative difference). */
  units: 'gap';
  /** Blocks whose vectors the file holds. */
  layers: number[];
  meta: PersonaMeta;
}

/** The record to store with an export of `p` holding `layers`. */
export function exportedMeta(p: PersonaVector, layers: number[]): ExportedMeta {
  return { format: EXPORT_FORMAT, units: 'gap', layers: [...layers].sort((a, b) => a - b), meta: p.meta };
}

const isInt = (x: unknown): x is number => Number.isInteger(x);

/**
 * Parses and checks a stored record; a malformed one is an error naming `source` (a file made by
 * this toolkit whose record does not parse has been damaged: it is not silently treated as foreign).
 *
 * @example const m = parseExportedMeta(cv.personaMeta!, 'formal.gguf');
 */
export function parseExportedMeta(text: string, source: string): ExportedMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PersonaFileError(`${source}: its persona record is not valid JSON (${(err as Error).message}).`);
  }
  const r = raw as Partial<ExportedMeta>;
  if (r && typeof r === 'object' && r.meta) r.meta = withReadKey(r.meta);
  const m = r?.meta as Partial<PersonaMeta> | undefined;
  const bad = (what: string): never => {
    throw new PersonaFileError(`${source}: its persona record is malformed (${what}). Export the persona again.`);
  };
  if (r?.format !== EXPORT_FORMAT) bad(`format is ${JSON.stringify(r?.format)}, expected ${EXPORT_FORMAT}`);
  if (r.units !== 'gap') bad('units');
  if (!Array.isArray(r.layers) || !r.layers.every(isInt)) bad('layers');
  if (!m || typeof m.name !== 'string' || !isInt(m.recommendedLayer)) bad('meta.name / meta.recommendedLayer');
  if (!Array.isArray(m!.alphaRange) || m!.alphaRange.length !== 2 || !m!.alphaRange.every(Number.isFinite)) bad('meta.alphaRange');
  if (!Array.isArray(m!.layers) || !m!.model || !isInt(m!.model.hiddenSize) || !isInt(m!.model.numLayers)) bad('meta.layers / meta.model');
  if (m!.recommendedLayers !== undefined && !(Array.isArray(m!.recommendedLayers) && m!.recommendedLayers.every(isInt))) bad('meta.recommendedLayers');
  return r as ExportedMeta;
}

/** The JSON sidecar of a persona_vectors export: `formal.pt` → `formal.pt.json`. */
export function exportSidecarPath(file: string): string {
  return `${file}.json`;
}
