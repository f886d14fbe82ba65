import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModelConfig } from '../../model/config/ModelConfig.js';
import { TOOL_VERSION } from '../../version.js';
import { PersonaVector, type PersonaMeta } from '../PersonaVector.js';
import { readControlVectorGguf } from './controlVectorGguf.js';
import { defaultImportLayer } from './defaultImportLayer.js';
import { exportSidecarPath, parseExportedMeta, type ExportedMeta } from './exportedMeta.js';
import { readPvPt, readPvSafetensors } from './personaVectorsPt.js';

/**
 * A vector file read as a persona, with a sentence saying how its layers and alpha range were chosen.
 *
 * @example const { persona, how } = await importVectors('formal.gguf', config, { id: 'Qwen/Qwen3-0.6B' });
 */
export interface ImportedVectors {
  persona: PersonaVector;
  /** What the file said, or the stated default used when it said nothing. */
  how: string;
  /** True when the default layer came from the middle-block rule (the file holds one vector per layer and no record of ours). */
  chosenByRule?: boolean;
}

/** Alpha range given to vectors whose file records none. */
export const IMPORT_ALPHA_RANGE: [number, number] = [-2, 2];

async function readSidecar(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(exportSidecarPath(file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Reads a llama.cpp / repeng GGUF control vector or a persona_vectors `.pt` / safetensors file for a
 * model. A file this toolkit exported carries the persona's record (GGUF key `persona_vectors.meta`,
 * or `FILE.json` beside a persona_vectors file): name, description, recommended layer(s), alpha range
 * and residual norms come back as they were, so the persona steers exactly as before. A file made
 * elsewhere gets stated defaults: a GGUF with several directions steers all of them (as llama.cpp
 * applies it), one with one direction that layer; a persona_vectors file (every layer) the middle
 * block (`defaultImportLayer`); alpha range ±2.
 *
 * @example const { persona, how } = await importVectors('vec.pt', config, { id: 'Qwen/Qwen3-4B', name: 'evil' });
 */
export async function importVectors(file: string, c: ModelConfig, model: { id: string; name?: string }): Promise<ImportedVectors> {
  const L = c.numHiddenLayers;
  const H = c.hiddenSize;
  let vectors: Float32Array[];
  let record: ExportedMeta | undefined;
  let held: number[];
  if (file.toLowerCase().endsWith('.gguf')) {
    const cv = await readControlVectorGguf(file, { hiddenSize: H, numLayers: L });
    vectors = Array.from({ length: L }, (_, l) => cv.directions.get(l) ?? new Float32Array(H));
    held = [...cv.directions.keys()];
    if (cv.personaMeta !== undefined) record = parseExportedMeta(cv.personaMeta, file);
  } else {
    vectors = (
      /\.(pt|pth)$/i.test(file) ? await readPvPt(file, { hiddenSize: H, numLayers: L }) : await readPvSafetensors(file, { hiddenSize: H, numLayers: L })
    ).vectors;
    held = vectors.map((v, l) => (v.some((x) => x !== 0) ? l : -1)).filter((l) => l >= 0);
    const side = await readSidecar(file);
    if (side !== undefined) record = parseExportedMeta(side, exportSidecarPath(file));
  }
  const norms = vectors.map((v) => Math.hypot(...v));
  if (record) {
    const m = record.meta;
    const meta: PersonaMeta = {
      ...m,
      ...(model.name ? { name: model.name } : {}),
      // Norms as the file's vectors are (layers the file does not hold are zero now); residual norms are the model's.
      layers: norms.map((norm, layer) => {
        const old = m.layers.find((s) => s.layer === layer);
        return { layer, norm, residNorm: old?.residNorm ?? 0, separation: record!.layers.includes(layer) ? (old?.separation ?? 0) : 0 };
      }),
    };
    const steers = meta.recommendedLayers ?? [meta.recommendedLayer];
    const missing = steers.filter((l) => !held.includes(l));
    const how = `the file's own record: layer${steers.length > 1 ? 's' : ''} ${steers.join(', ')}, alpha range ${meta.alphaRange.join('..')} (gap units)${missing.length ? `; WARNING: the file holds no vector for layer ${missing.join(', ')}, so steering there does nothing — export with --layers or --all-layers` : ''}`;
    return { persona: new PersonaVector(vectors, meta), how };
  }
  const multi = file.toLowerCase().endsWith('.gguf') && held.length > 1;
  const { layer, rule } = multi ? { layer: held[0], rule: '' } : defaultImportLayer(vectors);
  const meta: PersonaMeta = {
    name: model.name ?? path.basename(file).replace(/\.[^.]+$/, ''),
    description: `imported from ${path.basename(file)}`,
    model: { id: model.id, modelType: c.modelType, hiddenSize: H, numLayers: L },
    method: 'mean-diff',
    read: 'response-mean',
    recommendedLayer: layer,
    ...(multi ? { recommendedLayers: held } : {}),
    alphaRange: IMPORT_ALPHA_RANGE,
    layers: norms.map((norm, l) => ({ layer: l, norm, residNorm: 0, separation: 0 })),
    createdAt: new Date().toISOString(),
    toolVersion: TOOL_VERSION,
  };
  const how = multi
    ? `no record of ours in the file: steers all ${held.length} layers it holds (${held.join(', ')}), as llama.cpp applies it (give --layer to steer one); alpha range ±${IMPORT_ALPHA_RANGE[1]} by default`
    : `no record of ours in the file: default layer ${layer}: ${rule}; alpha range ±${IMPORT_ALPHA_RANGE[1]} by default`;
  return { persona: new PersonaVector(vectors, meta), how, ...(multi ? {} : { chosenByRule: true }) };
}
