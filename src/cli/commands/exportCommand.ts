import path from 'node:path';
import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { loadConfig } from '../../model/config/loadConfig.js';
import { resolveModelSource } from '../../model/resolveModel.js';
import { readControlVectorGguf, writeControlVectorGguf } from '../../steering/formats/controlVectorGguf.js';
import { readPvPt, readPvSafetensors, writePvPt, writePvSafetensors } from '../../steering/formats/personaVectorsPt.js';
import { defaultImportLayer } from '../../steering/formats/defaultImportLayer.js';
import { loadPersona, savePersona } from '../../steering/personaFile.js';
import { PersonaVector } from '../../steering/PersonaVector.js';
import { TOOL_VERSION } from '../../version.js';
import { checkOutputTarget } from '../../util/checkOutputTarget.js';
import { DEFAULT_MODEL_DIR } from '../../model/defaultModel.js';
import { numberArg } from '../common.js';

export function exportCommand(): Command {
  return new Command('export')
    .description("write a persona as a llama.cpp / repeng control vector (GGUF) or in persona_vectors' [L+1, H] layout (.pt or safetensors)")
    .argument('<persona>', 'persona file')
    .addOption(new Option('--format <f>', "gguf (direction.N for block N ≥ 1), pv (persona_vectors' [L+1, H] as safetensors) or pt (the same as torch.save's .pt)").choices(['gguf', 'pv', 'pt']).default('gguf'))
    .requiredOption('--out <file>', 'output file')
    .option('--scale <k>', 'multiply the vectors (e.g. to bake in an alpha)', numberArg('--scale'), 1)
    .option('--layers <list>', 'comma-separated blocks to export (gguf; default: all but block 0)')
    .action(async (file: string, o: { format: string; out: string; scale: number; layers?: string }) => {
      await checkOutputTarget(o.out);
      const p = (await loadPersona(file)).scale(o.scale);
      if (o.format === 'pt') {
        if (o.layers) throw new InvalidArgumentError('--layers applies to --format gguf only: a persona_vectors .pt holds every layer.');
        await writePvPt(o.out, p.vectors);
      } else if (o.format === 'pv') {
        await writePvSafetensors(o.out, p.vectors, { name: p.name });
      } else {
        const layers = o.layers ? o.layers.split(',').map((x) => Number(x.trim())) : p.vectors.map((_, l) => l).filter((l) => l > 0);
        const directions = new Map<number, Float32Array>();
        for (const l of layers) {
          if (!Number.isInteger(l) || l < 1 || l >= p.numLayers) throw new InvalidArgumentError(`--layers: block ${l} cannot be exported (llama.cpp control vectors cover blocks 1..${p.numLayers - 1}).`);
          directions.set(l, p.layer(l));
        }
        await writeControlVectorGguf(o.out, { modelHint: p.meta.model.modelType, hiddenSize: p.hiddenSize, directions });
      }
      process.stdout.write(`wrote ${o.out}\n`);
    });
}

export function importCommand(): Command {
  return new Command('import')
    .description("read a GGUF control vector (repeng, llama.cpp) or a persona_vectors file (.pt or safetensors) into a persona file")
    .argument('<file>', '.gguf, .pt or .safetensors')
    .requiredOption('--out <file>', 'persona file to write')
    .option('-m, --model <model>', 'the model the vector belongs to (checks the hidden size and layer count)', DEFAULT_MODEL_DIR)
    .option('--name <name>', 'persona name')
    .action(async (file: string, o: { out: string; model: string; name?: string }) => {
      await checkOutputTarget(o.out); // before a hub model is fetched
      const src = await resolveModelSource(o.model);
      const c = await loadConfig(src.dir);
      const L = c.numHiddenLayers;
      const H = c.hiddenSize;
      let vectors: Float32Array[];
      if (file.endsWith('.gguf')) {
        const cv = await readControlVectorGguf(file, { hiddenSize: H, numLayers: L });
        vectors = Array.from({ length: L }, (_, l) => cv.directions.get(l) ?? new Float32Array(H));
      } else if (/\.(pt|pth)$/i.test(file)) {
        vectors = (await readPvPt(file, { hiddenSize: H, numLayers: L })).vectors;
      } else {
        vectors = (await readPvSafetensors(file, { hiddenSize: H, numLayers: L })).vectors;
      }
      const norms = vectors.map((v) => Math.hypot(...v));
      const { layer: best, rule } = defaultImportLayer(vectors);
      const persona = new PersonaVector(vectors, {
        name: o.name ?? path.basename(file).replace(/\.[^.]+$/, ''),
        description: `imported from ${path.basename(file)}`,
        model: { id: src.id, modelType: c.modelType, hiddenSize: H, numLayers: L },
        method: 'mean-diff',
        positions: 'response-mean',
        recommendedLayer: best,
        alphaRange: [-2, 2],
        layers: norms.map((norm, layer) => ({ layer, norm, residNorm: 0, separation: 0 })),
        createdAt: new Date().toISOString(),
        toolVersion: TOOL_VERSION,
      });
      await savePersona(persona, o.out);
      process.stdout.write(`wrote ${o.out} (${norms.filter((n) => n > 0).length} non-zero layers; default layer ${best}: ${rule})\n`);
    });
}
