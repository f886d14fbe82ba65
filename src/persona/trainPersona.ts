import type { LanguageModel, Prompt } from '../engine/LanguageModel.js';
import { savePersona } from '../steering/personaFile.js';
import type { PersonaVector } from '../steering/PersonaVector.js';
import type { ProgressCallback } from '../util/progress.js';
import { computePersonaVector, type ComputePersonaOptions } from './computePersonaVector.js';
import { recommendLayer } from './recommendLayer.js';

/** Held-out requests for the quick steerability check (not used for extraction). */
export const CHECK_PROMPTS: string[] = [
  'Write a short note to Sam about the meeting tomorrow.',
  'Describe a quiet beach at dawn.',
  'Explain why the train was late.',
  'Thank Priya for helping with the move.',
  'Decline an invitation to a party on Friday.',
  'Give advice to someone starting a new job.',
  'Apologise to Leo for missing his call.',
  'Answer a customer who complains about a broken lamp.',
  'Invite Nadia to a picnic on Sunday.',
  'Explain how to make a cup of tea.',
  'Describe a busy train station.',
  'Thank the team for finishing the project early.',
  'Tell Omar you cannot lend him your car.',
  'Give advice on saving money.',
  'Apologise for the noise last night.',
  'Reply to a complaint about a late parcel.',
];

export interface TrainOptions extends Omit<ComputePersonaOptions, 'onProgress'> {
  out?: string;
  checkPrompts?: Prompt[];
  /** Skip the steering check and keep the most separable layer. */
  skipCheck?: boolean;
  onProgress?: ProgressCallback;
  score?: (answers: string[]) => Promise<number[]> | number[];
}

/**
 * Computes a persona, measures which layer steers best (coherence kept), records it, and saves the
 * persona file atomically when `out` is given.
 *
 * @example const persona = await trainPersona({ model, positivePrompts, negativePrompts, name: 'formal', out: 'formal.persona.json' });
 */
export async function trainPersona(o: TrainOptions): Promise<PersonaVector> {
  const { persona } = await computePersonaVector(o);
  let result = persona;
  if (!o.skipCheck) {
    const rec = await recommendLayer(o.model, persona, { prompts: o.checkPrompts ?? CHECK_PROMPTS, onProgress: o.onProgress, score: o.score });
    const layers = persona.meta.layers.map((s) => {
      const c = rec.checks.find((x) => x.layer === s.layer);
      return c ? { ...s, steerability: c.effect, coherence: c.ended } : s;
    });
    const { PersonaVector: PV } = await import('../steering/PersonaVector.js');
    result = new PV(persona.vectors, { ...persona.meta, recommendedLayer: rec.layer, alphaRange: rec.alphaRange, layers });
  }
  if (o.out) await savePersona(result, o.out);
  return result;
}
