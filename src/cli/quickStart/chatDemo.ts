import type { ChatMessage } from '../../engine/LanguageModel.js';
import { resolveSteering } from '../../steering/resolveSteering.js';
import { writeRows, type DemoContext } from './demoContext.js';

const TURNS = ['Hi! Could you help me write a note to my neighbour?', 'Thanks. Now ask them to keep the noise down after ten.'];

/**
 * A short scripted chat, two turns with history, held twice side by side: unsteered and at the top of
 * the persona's range (what `persona chat` does live with ↑/↓).
 *
 * @example await chatDemo({ model, persona: formal, prompt: '', out: process.stdout });
 */
export async function chatDemo({ model, persona, out }: DemoContext): Promise<void> {
  const alphas = [0, persona.meta.alphaRange[1]];
  out.write(
    `\na scripted two-turn chat, unsteered and with "${persona.name}" at alpha ${alphas[1]} (layer ${persona.meta.recommendedLayer}); \`persona chat\` does this live:\n\n`,
  );
  const histories: ChatMessage[][] = alphas.map(() => []);
  for (const turn of TURNS) {
    for (const h of histories) h.push({ role: 'user', content: turn });
    const answers = await model.generate(
      histories.map((h) => [...h]),
      {
        maxNewTokens: 48,
        intervention: alphas.map((alpha) => resolveSteering(model, [{ persona, alpha }])),
      },
    );
    answers.forEach((a, i) => histories[i].push({ role: 'assistant', content: a.text }));
    out.write(`you › ${turn}\n`);
    writeRows(
      out,
      answers.map((a, i) => ({ label: alphas[i] === 0 ? 'unsteered' : `alpha ${alphas[i]}`, text: a.text })),
    );
  }
}
