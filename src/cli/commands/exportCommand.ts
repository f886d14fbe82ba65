import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { loadConfig } from '../../model/loadConfig.js';
import { resolveModelSource } from '../../model/resolveModel.js';
import { writeControlVectorGguf } from '../../steering/formats/controlVectorGguf.js';
import { exportedMeta, exportSidecarPath } from '../../steering/formats/exportedMeta.js';
import { importVectors } from '../../steering/formats/importVectors.js';
import { writePvPt, writePvSafetensors } from '../../steering/formats/personaVectorsPt.js';
import { loadPersona, savePersona } from '../../steering/personaFile.js';
import { defaultLayers } from '../../steering/resolveSteering.js';
import { steeringWarning } from '../../steering/steeringWarning.js';
import { atomicWrite } from '../../util/atomicWrite.js';
import { checkOutputTarget } from '../../util/checkOutputTarget.js';
import { DEFAULT_MODEL_DIR } from '../../model/defaultModel.js';
import { intArg, layersArg, numberArg, withModel } from '../common.js';
import { DEFAULTS } from '../../engine/defaults.js';
import { recordSteering, steeringSummary } from '../../eval/layers/recommendSteering.js';
import { parseScorerSpec } from '../../eval/evaluate/traitScoring.js';
import { progressBar } from '../../util/progress.js';

/** The llama.cpp command that steers like `persona run --persona NAME --alpha ALPHA` with a default export. */
export function llamaCppEquivalent(gguf: string, alpha: number | string = 'ALPHA'): string {
  return `llama-cli -m MODEL.gguf --control-vector-scaled ${gguf} ${alpha}`;
}

export function exportCommand(): Command {
  return new Command('export')
    .description(
      "write a persona as a llama.cpp / repeng control vector (GGUF) or in persona_vectors' [L+1, H] layout (.pt or safetensors, with a FILE.json record beside it).\n" +
        "A default GGUF export holds the persona's recommended layer(s) only, so llama.cpp's plain --control-vector steers like persona run:\n" +
        `  persona run --persona P --alpha A   ≡   ${llamaCppEquivalent('P.gguf', 'A')}\n` +
        '(llama.cpp adds the direction at every position and after the same block, so this matches --positions all --units gap; --control-vector FILE is A = 1).\n' +
        "A persona whose file records the steering check's does-not-steer verdict is exported anyway, with a one-line warning on stderr.",
    )
    .argument('<persona>', 'persona name or file')
    .addOption(
      new Option('--format <f>', "gguf (direction.N for block N ≥ 1), pv (persona_vectors' [L+1, H] as safetensors) or pt (the same as torch.save's .pt)")
        .choices(['gguf', 'pv', 'pt'])
        .default('gguf'),
    )
    .requiredOption('--out <file>', 'output file')
    .option('--scale <k>', 'multiply the vectors (e.g. to bake in an alpha; the recorded alpha range is divided by k)', numberArg('--scale'), 1)
    .option('--layers <list>', 'blocks to export (gguf), e.g. 3 or 2-5 (default: the recommended layer(s))', layersArg('--layers'))
    .option('--all-layers', 'gguf: every block 1…L−1 (llama.cpp then steers all of them unless given --control-vector-layer-range)')
    .action(async (file: string, o: { format: string; out: string; scale: number; layers?: number[]; allLayers?: boolean }) => {
      await checkOutputTarget(o.out);
      const loaded = await loadPersona(file);
      const warning = steeringWarning(loaded, 'exporting it anyway (its recommended layer is only the most separable one, not advice)');
      if (warning) process.stderr.write(`warning: ${warning}\n`);
      const p = o.scale === 1 ? loaded : loaded.scale(o.scale);
      if (o.format !== 'gguf' && (o.layers || o.allLayers))
        throw new InvalidArgumentError(`--layers applies to --format gguf only (so does --all-layers): a persona_vectors file holds every layer.`);
      if (o.layers && o.allLayers) throw new InvalidArgumentError('Give --layers or --all-layers, not both.');
      if (o.format === 'gguf') {
        const layers = o.allLayers ? p.vectors.map((_, l) => l).filter((l) => l > 0) : (o.layers ?? defaultLayers(p));
        const directions = new Map<number, Float32Array>();
        for (const l of layers) {
          if (!Number.isInteger(l) || l < 1 || l >= p.numLayers) {
            throw new InvalidArgumentError(
              `block ${l} cannot be exported: llama.cpp control vectors cover blocks 1..${p.numLayers - 1} (it never steers block 0)${o.layers ? '' : `, and ${l} is the persona's recommended layer; choose another with --layers`}.`,
            );
          }
          directions.set(l, p.layer(l));
        }
        await writeControlVectorGguf(o.out, {
          modelHint: p.meta.model.modelType,
          hiddenSize: p.hiddenSize,
          directions,
          personaMeta: JSON.stringify(exportedMeta(p, layers)),
        });
        const steers = defaultLayers(p);
        process.stdout.write(`wrote ${o.out} (block${layers.length > 1 ? 's' : ''} ${layers.join(', ')}).\n`);
        if (!o.allLayers && !o.layers)
          process.stdout.write(
            `llama.cpp steers like \`persona run --persona ${p.name} --alpha A\` (layer ${steers.join(', ')}) with:\n  ${llamaCppEquivalent(o.out, 'A')}\n`,
          );
        return;
      }
      const all = p.vectors.map((_, l) => l);
      if (o.format === 'pt') await writePvPt(o.out, p.vectors);
      else await writePvSafetensors(o.out, p.vectors, { name: p.name });
      await atomicWrite(exportSidecarPath(o.out), JSON.stringify(exportedMeta(p, all), null, 1) + '\n');
      process.stdout.write(`wrote ${o.out} and its record ${exportSidecarPath(o.out)}\n`);
    });
}

export function importCommand(): Command {
  return new Command('import')
    .description(
      'read a GGUF control vector (repeng, llama.cpp) or a persona_vectors file (.pt or safetensors) into a persona file; a file this toolkit exported comes back as it was',
    )
    .argument('<file>', '.gguf, .pt or .safetensors')
    .requiredOption('--out <file>', 'persona file to write')
    .option('-m, --model <model>', 'the model the vector belongs to (checks the hidden size and layer count)', DEFAULT_MODEL_DIR)
    .option('--name <name>', 'persona name')
    .option(
      '--check',
      "for a one-vector-per-layer file with no record of ours: choose the default layer and alpha range by measurement on --model (train's steering check: the layers screened, coarse to fine past 8, the coherent range measured, or the does-not-steer verdict) instead of the middle block",
    )
    .option('--scorer <spec>', "with --check: the trait scorer (markers:FILE or judge:URL,…; default the model's own markers, else the persona's projection)")
    .option('--seed <n>', 'with --check: seed of the sampled answers', intArg('--seed'), DEFAULTS.sampling.seed)
    .action(async (file: string, o: { out: string; model: string; name?: string; check?: boolean; scorer?: string; seed: number }) => {
      if (!o.check && (o.scorer !== undefined || o.seed !== DEFAULTS.sampling.seed))
        throw new InvalidArgumentError('--scorer and --seed belong to --check; add --check.');
      await checkOutputTarget(o.out); // before a hub model is fetched
      const src = await resolveModelSource(o.model);
      const c = await loadConfig(src.dir);
      const imported = await importVectors(file, c, { id: src.id, name: o.name });
      let { persona } = imported;
      let how = imported.how;
      if (o.check) {
        if (!imported.chosenByRule)
          throw new InvalidArgumentError(
            `--check chooses a layer for a file that names none; ${file} does (${how}). Import it without --check, or run persona analyze-layers on the persona.`,
          );
        const scorer = o.scorer ? parseScorerSpec(o.scorer) : undefined;
        // The folder resolved above, so a hub model is not resolved a second time.
        persona = await withModel({ model: src.dir, precision: DEFAULTS.model.precision, device: DEFAULTS.model.device }, (model, signal) =>
          recordSteering({ scorer, seed: o.seed })(model, persona, progressBar(process.stderr), signal),
        );
        how = `no record of ours in the file: layer and range measured on ${src.id} by the steering check`;
      }
      await savePersona(persona, o.out);
      process.stdout.write(`wrote ${o.out} (${persona.meta.layers.filter((s) => s.norm > 0).length} non-zero layers; ${how})\n`);
      if (o.check) process.stdout.write(`${steeringSummary(persona.meta.steering!, persona.meta.alphaRange).join('\n')}\n`);
    });
}
