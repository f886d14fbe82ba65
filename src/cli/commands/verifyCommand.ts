import { Command } from 'commander';
import { DEBUG_GRAPH } from '../../engine/graph/GraphOptions.js';
import { openDecoder } from '../../engine/openDecoder.js';
import { verifyGolden } from '../../engine/verify/verifyGolden.js';
import { resolveModelSource } from '../../model/resolveModel.js';
import { numberArg } from '../common.js';

export function verifyCommand(): Command {
  return new Command('verify')
    .description('check a model against reference outputs from transformers (golden.safetensors): logits, every layer, steering, greedy text')
    .argument('<model>', 'model folder or hub id')
    .requiredOption('-r, --reference <file>', 'golden.safetensors (golden.json beside it names the steering layer and alpha)')
    .option('--tolerance <x>', 'max relative error (max|Δ| / max|ref|)', numberArg('--tolerance'), 1e-4)
    .option('--json', 'print the report as JSON')
    .action(async (model: string, o: { reference: string; tolerance: number; json?: boolean }) => {
      const src = await resolveModelSource(model);
      const { session } = await openDecoder(src.dir, { graph: DEBUG_GRAPH });
      const report = await verifyGolden(session, o.reference, o.tolerance);
      await session.release();
      if (o.json) {
        process.stdout.write(JSON.stringify(report, null, 1) + '\n');
      } else {
        for (const t of report.tensors)
          process.stdout.write(`${t.ok ? 'ok  ' : 'FAIL'} ${t.name.padEnd(22)} max|Δ| ${t.maxAbs.toExponential(2)}  rel ${t.maxRel.toExponential(2)}\n`);
        for (const g of report.greedy)
          process.stdout.write(`${g.ok ? 'ok  ' : 'FAIL'} ${g.name.padEnd(22)} greedy agreement ${g.agree}/${g.expected.length}\n`);
        process.stdout.write(report.ok ? `verified: every check within ${o.tolerance}\n` : `FAILED: outside tolerance ${o.tolerance}\n`);
      }
      if (!report.ok) process.exitCode = 1;
    });
}
