import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { createPromptSet } from '../../persona/createPromptSet.js';
import { trainPersona } from '../../persona/trainPersona.js';
import { resolveSteering } from '../../steering/resolveSteering.js';
import { progressBar } from '../../util/progress.js';
import { demoAlphas, writeRows, type DemoContext } from './demoContext.js';

/** The description the demo turns into a persona. */
export const CREATE_DEMO_DESCRIPTION = 'formal and professional';

/**
 * Creates a persona from a one-line description (contrastive prompts from the built-in question
 * bank, answers, vector, layer check), saves it, and steers one request with it.
 *
 * @example await createDemo({ model, persona: formal, prompt: 'Thank Reese for the gift.', out: process.stdout }, 'my.persona.json');
 */
export async function createDemo({ model, prompt, out }: DemoContext, outFile?: string): Promise<string> {
  const file = outFile ?? path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'persona-demo-')), 'created.persona.json');
  out.write(
    `\ncreating a persona from the description "${CREATE_DEMO_DESCRIPTION}" (what \`persona create\` does): 32 contrastive prompt pairs, answers, vector, layer check…\n`,
  );
  const set = await createPromptSet({ personality: CREATE_DEMO_DESCRIPTION, numPrompts: 32, seed: 0 });
  const persona = await trainPersona({
    model,
    positivePrompts: set.positive,
    negativePrompts: set.negative,
    name: 'created',
    description: CREATE_DEMO_DESCRIPTION,
    maxNewTokens: 48,
    sampling: { temperature: 0.8, topK: 50, seed: 0 },
    out: file,
    onProgress: progressBar(process.stderr),
  });
  out.write(`wrote ${file}: layer ${persona.meta.recommendedLayer}, alpha range ${persona.meta.alphaRange.join('..')}\n\nrequest: "${prompt}"\n\n`);
  const alphas = demoAlphas(persona);
  const rows = await model.generate(
    alphas.map(() => prompt),
    { maxNewTokens: 48, intervention: alphas.map((alpha) => resolveSteering(model, [{ persona, alpha }])) },
  );
  writeRows(
    out,
    rows.map((r, i) => ({ label: `alpha ${alphas[i]}`, text: r.text })),
  );
  return file;
}
