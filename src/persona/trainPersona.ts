import type { LanguageModel } from '../engine/LanguageModel.js';
import { savePersona } from '../steering/personaFile.js';
import type { PersonaVector } from '../steering/PersonaVector.js';
import type { ProgressCallback } from '../util/progress.js';
import { computePersonaVector, type ComputePersonaOptions } from './computePersonaVector.js';

/**
 * Measures how a freshly computed persona steers the model and returns it with the verdict, layer and
 * alpha range recorded: `recordSteering` from `eval/layers/recommendSteering` (the one recommender).
 *
 * @example const recommend: SteeringRecorder = recordSteering({ traitScoring });
 */
export type SteeringRecorder = (model: LanguageModel, persona: PersonaVector, onProgress?: ProgressCallback, signal?: AbortSignal) => Promise<PersonaVector>;

/**
 * Options of {@link trainPersona}.
 *
 * @example const o: TrainOptions = { model, positivePrompts, negativePrompts, name: 'formal', recommend: recordSteering({ traitScoring }) };
 */
export interface TrainOptions extends Omit<ComputePersonaOptions, 'onProgress'> {
  out?: string;
  /**
   * The steering check that records the recommended layer, alpha range and verdict; without it the
   * persona keeps the provisional layer (the most separable one) and range, which are not advice.
   */
  recommend?: SteeringRecorder;
  onProgress?: ProgressCallback;
}

/**
 * Computes a persona, records what the steering check measured (when `recommend` is given), and saves
 * the persona file atomically when `out` is given.
 *
 * @example const persona = await trainPersona({ model, positivePrompts, negativePrompts, name: 'formal', recommend: recordSteering({ traitScoring }), out: 'formal.persona.json' });
 */
export async function trainPersona(o: TrainOptions): Promise<PersonaVector> {
  const { persona } = await computePersonaVector(o);
  const result = o.recommend ? await o.recommend(o.model, persona, o.onProgress, o.signal) : persona;
  if (o.out) await savePersona(result, o.out);
  return result;
}
