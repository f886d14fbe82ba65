import path from 'node:path';
import { loadPersona, savePersona } from '../../src/steering/personaFile.js';
import { PersonaVector } from '../../src/steering/PersonaVector.js';
import { PERSONAS } from './paths.js';

/**
 * Writes `<dir>/<name>.persona.json`: the shipped formal persona with the steering check's
 * `does-not-steer` verdict recorded, as `withRecommendation` records it (alpha range [0, 0], no
 * layer, alpha or effect). Returns the file.
 */
export async function writeDoesNotSteerPersona(dir: string, name = 'nosteer'): Promise<string> {
  const formal = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
  const v = formal.meta.steering!;
  const p = new PersonaVector(formal.vectors, {
    ...formal.meta,
    name,
    description: 'a persona whose file records the does-not-steer verdict',
    alphaRange: [0, 0],
    steering: {
      verdict: 'does-not-steer',
      metric: v.metric,
      metricSource: v.metricSource,
      questions: v.questions,
      seed: v.seed,
      reason: `This vector does not measurably steer this model: at no layer does a coherent positive alpha move ${v.metric} with an interval above zero on ${v.questions} held-out requests.`,
    },
  });
  const file = path.join(dir, `${name}.persona.json`);
  await savePersona(p, file);
  return file;
}
