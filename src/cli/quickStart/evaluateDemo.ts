import path from 'node:path';
import { evaluatePersonas } from '../../eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet } from '../../eval/evaluate/questionSets.js';
import { buildTraitScoring } from '../../eval/evaluate/traitScoring.js';
import { progressBar } from '../../util/progress.js';
import { demoAlphas, type DemoContext } from './demoContext.js';

/**
 * A small evaluation (what `persona evaluate` does at full size): 16 held-out requests at five
 * alphas across the persona's range, scored with the stylist's style markers, with 95% intervals and
 * the share of answers that end their turn.
 *
 * @example await evaluateDemo({ model, persona: formal, prompt: '', out: process.stdout });
 */
export async function evaluateDemo({ model, persona, out }: DemoContext): Promise<void> {
  const alphas = demoAlphas(persona);
  const questions = defaultQuestionSet(model.dir, 16).evaluation;
  const traitScoring = await buildTraitScoring({ kind: 'markers', file: path.join(model.dir, 'style_markers.json') }, [persona]);
  out.write(
    `\na small evaluation of "${persona.name}" (layer ${persona.meta.recommendedLayer}): ${questions.length} held-out requests × ${alphas.length} alphas, scored by ${traitScoring.description}:\n\n`,
  );
  const result = await evaluatePersonas(model, { personas: [persona], questions, alphas, traitScoring, onProgress: progressBar(process.stderr) });
  const p = result.personas[0];
  const metric = p.traitMetric;
  out.write(`${'alpha'.padStart(6)}  ${(metric ?? 'trait').padEnd(22)}  ended its turn\n`);
  for (const s of p.sweep) {
    const m = metric ? s.metrics[metric] : undefined;
    const trait = m ? `${m.mean.toFixed(2)} [${m.lo.toFixed(2)}, ${m.hi.toFixed(2)}]` : 'n/a';
    out.write(`${String(s.alpha).padStart(6)}  ${trait.padEnd(22)}  ${(s.ended.rate * 100).toFixed(0)}%\n`);
  }
  out.write('\nfull report with plots: persona evaluate --persona ' + persona.name + ' --out report.json --html report.html\n');
}
