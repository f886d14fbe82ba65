import { Command, Option } from 'commander';
import { loadModel } from '../../engine/LanguageModel.js';
import { DEFAULT_PERSONAS_DIR } from '../../model/defaultModel.js';
import { findPersonaFiles } from '../../steering/locatePersona.js';
import { loadPersona } from '../../steering/personaFile.js';
import type { PersonaVector } from '../../steering/PersonaVector.js';
import { progressBar } from '../../util/progress.js';
import { chatDemo } from '../quickStart/chatDemo.js';
import { createDemo } from '../quickStart/createDemo.js';
import type { DemoContext } from '../quickStart/demoContext.js';
import { evaluateDemo } from '../quickStart/evaluateDemo.js';
import { steerDemo } from '../quickStart/steerDemo.js';
import { InvalidArgumentError } from '../../errors.js';

/** Personas in a folder (`*.persona.json`), loaded and sorted by name. */
export async function listPersonas(dir: string): Promise<PersonaVector[]> {
  return Promise.all((await findPersonaFiles([dir])).map((e) => loadPersona(e.file)));
}

const DEMOS: Record<string, { what: string; run: (ctx: DemoContext, o: QuickStartFlags) => Promise<unknown> }> = {
  steer: { what: 'one request answered at several alphas', run: (ctx) => steerDemo(ctx) },
  chat: { what: 'a scripted two-turn chat, unsteered and steered', run: (ctx) => chatDemo(ctx) },
  create: { what: 'a persona made from a one-line description, then used', run: (ctx, o) => createDemo(ctx, o.out) },
  evaluate: { what: 'a small evaluation with intervals', run: (ctx) => evaluateDemo(ctx) },
};

interface QuickStartFlags {
  demo: string;
  prompt: string;
  persona: string;
  out?: string;
}

export function quickStartCommand(): Command {
  return new Command('quick-start')
    .description('the main job on the embedded model: what this is, the shipped personas, and a demo (steer, chat, create, evaluate), each under a minute')
    .addOption(
      new Option(
        '--demo <kind>',
        `which demo: ${Object.entries(DEMOS)
          .map(([k, d]) => `${k} (${d.what})`)
          .join('; ')}`,
      )
        .choices(Object.keys(DEMOS))
        .default('steer'),
    )
    .option('--prompt <text>', 'the request to answer', 'Write a short note thanking Reese for the birthday gift.')
    .option('--persona <name>', 'shipped persona to steer with', 'formal')
    .option('--out <file>', 'for --demo create: where to write the created persona (default: a temporary folder)')
    .action(async (o: QuickStartFlags) => {
      if (o.out && o.demo !== 'create') throw new InvalidArgumentError(`--out is only used by --demo create; got --demo ${o.demo}.`);
      const out = process.stdout;
      out.write(
        "persona-vectors: a persona vector is a direction in a frozen model's residual stream, learned from\n" +
          'contrastive prompts. Adding alpha·v after one decoder layer pushes answers toward the persona\n' +
          '(alpha > 0) or away from it (alpha < 0), with no weight updates.\n\n',
      );
      const t0 = Date.now();
      const personas = await listPersonas(DEFAULT_PERSONAS_DIR);
      const persona = personas.find((p) => p.name === o.persona);
      if (!persona)
        throw new InvalidArgumentError(
          `No shipped persona "${o.persona}". Shipped: ${personas.map((p) => p.name).join(', ') || 'none (make them with `npm run personas`)'}.`,
        );
      const model = await loadModel(undefined, { onProgress: progressBar(process.stderr) });
      try {
        out.write(
          `model: ${model.id} (embedded; ${model.config.modelType}, ${model.numLayers} layers, hidden ${model.hiddenSize})\nshipped personas (use them by name: --persona formal):\n`,
        );
        for (const p of personas)
          out.write(`  ${p.name.padEnd(8)} ${p.meta.description ?? ''}  [layer ${p.meta.recommendedLayer}, alpha ${p.meta.alphaRange.join('..')}]\n`);
        await DEMOS[o.demo].run({ model, persona, prompt: o.prompt, out }, o);
        const [, hi] = persona.meta.alphaRange;
        out.write(
          `done in ${((Date.now() - t0) / 1000).toFixed(1)} s. Next: npx persona-vectors run --persona ${persona.name} --alpha ${hi} --prompt "…"  (other demos: --demo ${Object.keys(
            DEMOS,
          )
            .filter((k) => k !== o.demo)
            .join('|')})\n`,
        );
      } finally {
        await model.dispose();
      }
    });
}
