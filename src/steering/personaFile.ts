import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PersonaFileError } from '../errors.js';
import { SafetensorsFile } from '../model/safetensors/SafetensorsFile.js';
import { encodeSafetensors } from '../model/safetensors/writeSafetensors.js';
import { atomicWrite } from '../util/atomicWrite.js';
import { PersonaVector, type PersonaMeta } from './PersonaVector.js';

export const PERSONA_FORMAT = 'persona-vectors/persona@1';

const layerStats = z.object({
  layer: z.number().int().nonnegative(),
  norm: z.number(),
  residNorm: z.number(),
  separation: z.number(),
  steerability: z.number().optional(),
  coherence: z.number().optional(),
});

const metaSchema = z.object({
  format: z.literal(PERSONA_FORMAT),
  name: z.string().min(1),
  description: z.string().optional(),
  model: z.object({ id: z.string(), revision: z.string().optional(), modelType: z.string(), hiddenSize: z.number().int().positive(), numLayers: z.number().int().positive() }),
  method: z.enum(['mean-diff', 'pca']),
  positions: z.enum(['response-mean', 'prompt-last']),
  recommendedLayer: z.number().int().nonnegative(),
  alphaRange: z.tuple([z.number(), z.number()]),
  layers: z.array(layerStats),
  prompts: z
    .object({ positive: z.number(), negative: z.number(), sha256: z.string(), systemPositive: z.array(z.string()).optional(), systemNegative: z.array(z.string()).optional() })
    .optional(),
  createdAt: z.string(),
  toolVersion: z.string(),
  systemPrompt: z.string().optional(),
  vectors: z.string(),
});

/** The sidecar beside a persona JSON: `x.persona.json` → `x.persona.safetensors`. */
export function sidecarPath(jsonPath: string): string {
  return jsonPath.replace(/(\.json)?$/, '').replace(/$/, '.safetensors');
}

/**
 * Saves a persona: self-describing JSON plus a safetensors sidecar with every layer's raw
 * difference (`layers.{l}`, f32 [H]). Both written atomically, sidecar first.
 *
 * @example await savePersona(vector, 'personas/formal.persona.json');
 */
export async function savePersona(p: PersonaVector, jsonPath: string): Promise<void> {
  const side = sidecarPath(jsonPath);
  const tensors = Object.fromEntries(p.vectors.map((v, l) => [`layers.${l}`, { shape: [v.length], data: v }]));
  await fs.mkdir(path.dirname(path.resolve(jsonPath)), { recursive: true });
  await atomicWrite(side, encodeSafetensors(tensors, { format: PERSONA_FORMAT, name: p.name }));
  const doc = { format: PERSONA_FORMAT, ...p.meta, vectors: path.basename(side) };
  await atomicWrite(jsonPath, JSON.stringify(doc, null, 1) + '\n');
}

/**
 * Loads and validates a persona file (schema, sidecar present, shapes, no NaN/Inf).
 *
 * @example const formal = await loadPersona('personas/formal.persona.json');
 */
export async function loadPersona(jsonPath: string): Promise<PersonaVector> {
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch {
    throw new PersonaFileError(`Persona file ${jsonPath} not found.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PersonaFileError(`Persona file ${jsonPath} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = metaSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PersonaFileError(`Persona file ${jsonPath} is malformed: ${issue.path.join('.') || '(root)'}: ${issue.message}.`);
  }
  const { vectors: sideName, format: _format, ...meta } = parsed.data;
  const side = path.join(path.dirname(jsonPath), sideName);
  try {
    await fs.access(side);
  } catch {
    throw new PersonaFileError(`The vectors of persona ${jsonPath} are missing: expected the sidecar ${side} beside it. Copy both files together.`);
  }
  const st = await SafetensorsFile.open(side);
  const vectors: Float32Array[] = [];
  for (let l = 0; l < meta.model.numLayers; l++) {
    if (!st.tensors.has(`layers.${l}`)) throw new PersonaFileError(`Sidecar ${side} has no tensor layers.${l}; it does not match ${jsonPath}.`);
    vectors.push(await st.readFloat32(`layers.${l}`));
  }
  return new PersonaVector(vectors, meta as PersonaMeta);
}
