import { resolveSteering } from '../../steering/resolveSteering.js';
import { demoAlphas, writeRows, type DemoContext } from './demoContext.js';

/** How the demos sample: the settings the recommended range was measured with, one seed for every row. */
export const DEMO_SAMPLING = { temperature: 0.8, topK: 50, seed: 0 };

/**
 * One request answered at several alphas across the persona's recommended range, in one batched
 * call, sampled as the range was measured (the same seed in every row, so rows differ by steering).
 *
 * @example await steerDemo({ model, persona: formal, prompt: 'Thank Reese for the gift.', out: process.stdout });
 */
export async function steerDemo({ model, persona, prompt, out }: DemoContext): Promise<void> {
  const alphas = demoAlphas(persona);
  out.write(
    `\nrequest: "${prompt}"\nsteering "${persona.name}" at layer ${persona.meta.recommendedLayer}, alphas across its recommended range ${persona.meta.alphaRange.join('..')}, ` +
      `sampled as the range was measured (T ${DEMO_SAMPLING.temperature}, top-k ${DEMO_SAMPLING.topK}, one seed for every row), one batched call:\n\n`,
  );
  const rows = await model.generateRows(
    alphas.map((alpha) => ({ prompt, maxNewTokens: 48, sampling: DEMO_SAMPLING, intervention: resolveSteering(model, [{ persona, alpha }]) })),
  );
  writeRows(
    out,
    rows.map((r, i) => ({ label: `alpha ${alphas[i]}`, text: r.text })),
  );
}
