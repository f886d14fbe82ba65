import { resolveSteering } from '../../steering/resolveSteering.js';
import { demoAlphas, writeRows, type DemoContext } from './demoContext.js';

/**
 * One request answered at several alphas across the persona's recommended range, in one batched
 * greedy call.
 *
 * @example await steerDemo({ model, persona: formal, prompt: 'Thank Reese for the gift.', out: process.stdout });
 */
export async function steerDemo({ model, persona, prompt, out }: DemoContext): Promise<void> {
  const alphas = demoAlphas(persona);
  out.write(`\nrequest: "${prompt}"\nsteering "${persona.name}" at layer ${persona.meta.recommendedLayer}, alphas across its recommended range ${persona.meta.alphaRange.join('..')}, greedy, one batched call:\n\n`);
  const rows = await model.generate(
    alphas.map(() => prompt),
    { maxNewTokens: 48, intervention: alphas.map((alpha) => resolveSteering(model, [{ persona, alpha }])) },
  );
  writeRows(out, rows.map((r, i) => ({ label: `alpha ${alphas[i]}`, text: r.text })));
}
