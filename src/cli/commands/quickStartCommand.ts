import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadModel } from '../../engine/LanguageModel.js';
import { DEFAULT_PERSONAS_DIR } from '../../model/defaultModel.js';
import { loadPersona } from '../../steering/personaFile.js';
import type { PersonaVector } from '../../steering/PersonaVector.js';
import { resolveSteering } from '../../steering/resolveSteering.js';

/** Personas in a folder (`*.persona.json`), loaded and sorted by name. */
export async function listPersonas(dir: string): Promise<PersonaVector[]> {
  let files: string[];
  try {
    files = (await fs.readdir(dir)).filter((f) => f.endsWith('.persona.json')).sort();
  } catch {
    return [];
  }
  return Promise.all(files.map((f) => loadPersona(path.join(dir, f))));
}

function wrap(text: string, width: number): string[] {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if ((cur + ' ' + w).trim().length > width) {
      if (cur) lines.push(cur);
      cur = w;
    } else cur = (cur + ' ' + w).trim();
  }
  if (cur) lines.push(cur);
  return lines.length ? lines : [''];
}

export function quickStartCommand(): Command {
  return new Command('quick-start')
    .description('the main job on the embedded model: what this is, the shipped personas, one request answered at several alphas')
    .addOption(new Option('--demo <kind>', 'which demo').choices(['steer', 'chat', 'create', 'evaluate']).default('steer'))
    .option('--prompt <text>', 'the request to answer', 'Write a short note thanking Reese for the birthday gift.')
    .option('--persona <name>', 'shipped persona to steer with', 'formal')
    .action(async (o: { demo: string; prompt: string; persona: string }) => {
      const out = process.stdout;
      out.write(
        'persona-vectors: a persona vector is a direction in a frozen model\'s residual stream, learned from\n' +
          'contrastive prompts. Adding alpha·v after one decoder layer pushes answers toward the persona\n' +
          '(alpha > 0) or away from it (alpha < 0), with no weight updates.\n\n',
      );
      const t0 = Date.now();
      const model = await loadModel();
      out.write(`model: ${model.id} (embedded; ${model.config.modelType}, ${model.numLayers} layers, hidden ${model.hiddenSize})\n`);
      const personas = await listPersonas(DEFAULT_PERSONAS_DIR);
      out.write(`personas (${DEFAULT_PERSONAS_DIR.replace(process.cwd() + path.sep, '')}):\n`);
      for (const p of personas) out.write(`  ${p.name.padEnd(8)} ${p.meta.description ?? ''}  [layer ${p.meta.recommendedLayer}, alpha ${p.meta.alphaRange.join('..')}]\n`);
      const persona = personas.find((p) => p.name === o.persona) ?? personas[0];
      if (!persona) {
        out.write('no shipped personas found; make them with `npm run personas`.\n');
        return;
      }
      if (o.demo !== 'steer') out.write(`(the ${o.demo} demo: run \`persona ${o.demo === 'chat' ? 'chat' : o.demo === 'create' ? 'create --personality "formal and professional" --output my.persona.json' : 'evaluate --persona personas/formal.persona.json --output report.json'}\`)\n`);
      const alphas = [-6, -3, 0, 3, 6];
      out.write(`\nrequest: "${o.prompt}"\nsteering "${persona.name}" at layer ${persona.meta.recommendedLayer}, greedy decoding, one batched call:\n\n`);
      const rows = await model.generate(
        alphas.map(() => o.prompt),
        { maxNewTokens: 48, intervention: alphas.map((alpha) => resolveSteering(model, [{ persona, alpha }])) },
      );
      const width = Math.max(40, Math.min(100, (out.columns ?? 100) - 14));
      rows.forEach((r, i) => {
        const lines = wrap(r.text, width);
        lines.forEach((line, j) => out.write(`${j === 0 ? `alpha ${String(alphas[i]).padStart(3)} │ ` : '          │ '}${line}\n`));
        out.write('          │\n');
      });
      out.write(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s. Next: persona run --persona personas/formal.persona.json --alpha -6 --prompt "…"\n`);
      await model.dispose();
    });
}
