import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { evaluatePersonas } from '../../../src/eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet } from '../../../src/eval/evaluate/questionSets.js';
import { buildTraitScoring } from '../../../src/eval/evaluate/traitScoring.js';
import { STYLIST } from '../../helpers/paths.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';

/** A tiny OpenAI-compatible judge: formal answers score high, casual ones low, answers with "lol" are refused. */
let server: Server;
let baseURL: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const prompt: string = JSON.parse(body).messages[0].content;
      seen.push(prompt);
      const answer = prompt.slice(prompt.indexOf('[ANSWER START]'), prompt.indexOf('[ANSWER END]')).toLowerCase();
      const coherence = prompt.includes('for coherence only');
      let token = coherence ? '90' : answer.includes('dear') || answer.includes('regards') ? '85' : '10';
      if (!coherence && answer.includes('lol')) token = 'REFUSAL';
      const reply = {
        choices: [
          {
            message: { role: 'assistant', content: token },
            finish_reason: 'stop',
            logprobs: { content: [{ token, logprob: -0.01, top_logprobs: [{ token, logprob: -0.01 }] }] },
          },
        ],
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('evaluate with an LLM judge behind an OpenAI-compatible endpoint', () => {
  it("scores each persona's trait and coherence through the judge, counting refusals instead of dropping them", async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const traitScoring = await buildTraitScoring({ kind: 'judge', baseURL, model: 'judge' }, [formal]);
    const r = await evaluatePersonas(model, {
      personas: [formal],
      questions: defaultQuestionSet(STYLIST, 8).evaluation,
      alphas: [-8, 8],
      layer: 3,
      traitScoring,
      batchSize: 64,
      engineScores: { perplexity: false },
    });
    expect(r.metrics.slice(0, 2)).toEqual(['judge:formal', 'judge:coherence']);
    expect(r.personas[0].traitMetric).toBe('judge:formal');
    expect(r.traitMetrics).toEqual(['judge:formal']);
    const at = (a: number) => r.personas[0].sweep.find((s) => s.alpha === a)!.metrics['judge:formal'];
    expect(at(8).mean).toBeGreaterThan(at(-8).mean);
    expect(r.personas[0].sweep.every((s) => s.metrics['judge:coherence'].mean === 90)).toBe(true);
    const counts = r.judgeCounts!['judge:formal'];
    expect(counts.scored + counts.refused).toBe(3 * 8);
    expect(counts.refused, 'casual answers at alpha −8 say lol').toBeGreaterThan(0);
    const refusedRows = r.answers.filter((a) => a.scores['judge:formal'] === null);
    expect(refusedRows.length).toBe(counts.refused);
    expect(refusedRows.every((a) => a.text.toLowerCase().includes('lol'))).toBe(true);
    const missing = r.personas[0].sweep.reduce((n, s) => n + s.metrics['judge:formal'].missing, 0);
    expect(missing).toBe(counts.refused);
    expect(seen.some((p) => p.includes('formal and professional'))).toBe(true);
    expect(r.metrics).not.toContain('perplexity');
  });
});
