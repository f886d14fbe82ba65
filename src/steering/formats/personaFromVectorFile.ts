import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { encodeSafetensors } from '../../model/safetensors/writeSafetensors.js';
import { TOOL_VERSION } from '../../version.js';
import { normalizeLayer, PersonaVector, type PersonaModelInfo } from '../PersonaVector.js';
import { decodeControlVectorGguf } from './controlVectorGguf.js';
import { defaultImportLayer } from './defaultImportLayer.js';
import { decodePvPt, readPvSafetensors } from './personaVectorsPt.js';

/** The vector files made elsewhere that can become a persona. */
export const VECTOR_FILE_FORMATS = ['gguf', 'pt', 'pv-safetensors'] as const;
export type VectorFileFormat = (typeof VECTOR_FILE_FORMATS)[number];

/** Options of {@link personaFromVectorFile}. */
export interface PersonaFromVectorFileOptions {
  format: VectorFileFormat;
  name: string;
  model: PersonaModelInfo;
  description?: string;
  /** The block to steer at by default (else `defaultImportLayer`'s rule, recorded in `defaultLayerRule`). */
  layer?: number;
  /** Names the bytes in errors (a file name, "upload evil.pt"). */
  where: string;
}

/**
 * Turns a control vector or persona_vectors file held in memory (an upload) into a persona for
 * `model`: a llama.cpp / repeng GGUF (`direction.N`), persona_vectors' `.pt` (torch zip of one
 * `[L+1, H]` tensor, read without executing anything) or its `[L+1, H]` safetensors. The shape is
 * checked against the model; the default layer is `layer` or the middle-block rule, never the
 * largest norm. Throws `PersonaFileError`s (bad file) or `InvalidArgumentError`s (bad options).
 *
 * @example
 * const { persona, defaultLayerRule } = await personaFromVectorFile(bytes, { format: 'pt', name: 'evil', model, where: 'upload evil.pt' });
 */
export async function personaFromVectorFile(bytes: Uint8Array, o: PersonaFromVectorFileOptions): Promise<{ persona: PersonaVector; defaultLayerRule: string }> {
  const { hiddenSize: H, numLayers: L } = o.model;
  let vectors: Float32Array[];
  if (o.format === 'gguf') {
    const cv = decodeControlVectorGguf(bytes, { hiddenSize: H, numLayers: L });
    vectors = Array.from({ length: L }, (_, l) => cv.directions.get(l) ?? new Float32Array(H));
  } else if (o.format === 'pt') {
    vectors = decodePvPt(bytes, o.where, { hiddenSize: H, numLayers: L }).vectors;
  } else if (o.format === 'pv-safetensors') {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-upload-'));
    try {
      const file = path.join(dir, 'upload.safetensors');
      await fs.writeFile(file, bytes);
      vectors = (await readPvSafetensors(file, { hiddenSize: H, numLayers: L })).vectors;
    } catch (err) {
      if (err instanceof Error) err.message = err.message.split(path.join(dir, 'upload.safetensors')).join(o.where);
      throw err;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  } else {
    throw new InvalidArgumentError(`format must be one of ${VECTOR_FILE_FORMATS.join(', ')}; got "${String(o.format)}".`);
  }
  const norms = vectors.map((v) => Math.hypot(...v));
  if (!norms.some((n) => n > 0)) throw new InvalidArgumentError(`${o.where}: every vector in the file is zero; it would steer nothing.`);
  const auto = defaultImportLayer(vectors);
  const layer = o.layer === undefined ? auto.layer : normalizeLayer(o.layer, L);
  if (!(norms[layer] > 0))
    throw new InvalidArgumentError(
      `${o.where}: the file has no vector at block ${layer}; choose a layer it covers (${norms.flatMap((n, l) => (n > 0 ? [l] : [])).join(', ')}).`,
    );
  const persona = new PersonaVector(vectors, {
    name: o.name,
    description: o.description ?? `imported from ${o.where}`,
    model: o.model,
    method: 'mean-diff',
    read: 'response-mean',
    recommendedLayer: layer,
    alphaRange: [-2, 2],
    layers: norms.map((norm, l) => ({ layer: l, norm, residNorm: 0, separation: 0 })),
    createdAt: new Date().toISOString(),
    toolVersion: TOOL_VERSION,
  });
  return { persona, defaultLayerRule: o.layer === undefined ? auto.rule : 'the layer given' };
}

/**
 * A persona's sidecar bytes (`layers.{l}`, f32 [H]), as `savePersona` writes them, for an upload.
 *
 * @example await store.add(persona.meta, personaSidecar(persona));
 */
export function personaSidecar(p: PersonaVector): Uint8Array {
  return encodeSafetensors(Object.fromEntries(p.vectors.map((v, l) => [`layers.${l}`, { shape: [v.length], data: v }])), {
    format: 'persona-vectors/persona@1',
    name: p.name,
  });
}
