import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { chatCommand } from '../../src/cli/commands/chatCommand.js';
import { createCommand } from '../../src/cli/commands/createCommand.js';
import { screenCommand } from '../../src/cli/commands/screenCommand.js';
import { serveCommand } from '../../src/cli/commands/serveCommand.js';
import { trainCommand } from '../../src/cli/commands/trainCommand.js';
import { modelOptions, modelSpecFromFlags } from '../../src/cli/common.js';
import { evaluationOptions } from '../../src/cli/evaluationOptions.js';
import { DEFAULTS } from '../../src/engine/defaults.js';

const defaultOf = (cmd: Command, flag: string) => cmd.options.find((o) => o.long === flag)?.defaultValue;

describe('the model flags', () => {
  it('become one model spec with the revision as its own field (never folded into the id)', () => {
    expect(modelSpecFromFlags({ model: 'Qwen/Qwen3-0.6B', precision: 'q4', device: 'cpu', revision: 'main', threads: 2 })).toEqual({
      model: 'Qwen/Qwen3-0.6B',
      revision: 'main',
      precision: 'q4',
      device: 'cpu',
      threads: 2,
    });
    expect(modelSpecFromFlags({ model: 'models/stylist', precision: 'f32', device: 'cpu' })).toEqual({
      model: 'models/stylist',
      precision: 'f32',
      device: 'cpu',
    });
    expect(() => modelSpecFromFlags({ model: 'm', precision: 'f16', device: 'cpu' })).toThrow(/Unknown precision "f16"/);
  });

  it('default to the library defaults', () => {
    const byFlag = Object.fromEntries(modelOptions().map((o) => [o.long, o.defaultValue]));
    expect(byFlag['--precision']).toBe(DEFAULTS.model.precision);
    expect(byFlag['--device']).toBe(DEFAULTS.model.device);
  });
});

describe('the CLI defaults', () => {
  it('are the values the library declares once', () => {
    const serve = serveCommand();
    expect([
      defaultOf(serve, '--max-batch'),
      defaultOf(serve, '--max-queue'),
      defaultOf(serve, '--max-tokens'),
      defaultOf(serve, '--port'),
      defaultOf(serve, '--host'),
    ]).toEqual([DEFAULTS.server.maxBatch, DEFAULTS.server.maxQueue, DEFAULTS.server.maxTokens, DEFAULTS.server.port, DEFAULTS.server.host]);
    const train = trainCommand();
    expect([defaultOf(train, '--max-new-tokens'), defaultOf(train, '--temperature')]).toEqual([DEFAULTS.train.maxNewTokens, DEFAULTS.sampling.temperature]);
    // create and train answer in batches of one size, the library's (trainPersona's default too)
    const create = createCommand();
    expect([defaultOf(train, '--batch-size'), defaultOf(create, '--batch-size')]).toEqual([DEFAULTS.train.batchSize, DEFAULTS.train.batchSize]);
    expect([defaultOf(create, '--max-new-tokens'), defaultOf(create, '--temperature')]).toEqual([DEFAULTS.train.maxNewTokens, DEFAULTS.sampling.temperature]);
    expect(defaultOf(chatCommand(), '--max-new-tokens')).toBe(DEFAULTS.chat.maxNewTokens);
    expect(defaultOf(screenCommand(), '--batch-size')).toBe(DEFAULTS.screen.batchSize);
    const sweep = Object.fromEntries(
      evaluationOptions({ alphas: '', questions: '', numQuestions: '', seed: '', scorer: '', traitMetric: '' }, { layers: [], prompts: [] }).map((o) => [
        o.long,
        o.defaultValue,
      ]),
    );
    expect(sweep['--alphas']).toEqual([...DEFAULTS.sweep.alphas]);
    expect([sweep['--top-k'], sweep['--temperature'], sweep['--num-questions'], sweep['--batch-size'], sweep['--max-new-tokens']]).toEqual([
      DEFAULTS.sampling.topK,
      DEFAULTS.sampling.temperature,
      DEFAULTS.sweep.numQuestions,
      DEFAULTS.sweep.batchSize,
      DEFAULTS.sweep.maxNewTokens,
    ]);
  });
});
