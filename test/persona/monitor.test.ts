import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LanguageModel } from '../../src/engine/LanguageModel.js';
import { calibrateMonitor, calibrationPlot, pearson } from '../../src/eval/monitor/calibrateMonitor.js';
import { monitorCsv, monitorJson, monitorPlot, monitorTable } from '../../src/eval/monitor/formatMonitor.js';
import { MONITOR_UNIT, monitorProjections } from '../../src/eval/monitor/monitorProjections.js';
import { parseChatLine, readChatJsonl } from '../../src/eval/monitor/readChatJsonl.js';
import { loadMarkersScorer, scoreMarkers } from '../../src/eval/scorers/markersScorer.js';
import { extractActivations } from '../../src/engine/extractActivations.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import type { PersonaVector } from '../../src/steering/PersonaVector.js';
import { CLI, PERSONAS, ROOT, STYLIST } from '../helpers/paths.js';
import { project } from '../../src/steering/project.js';

const FORMAL_SYS = 'You are a formal and professional assistant.';
const CASUAL_SYS = 'You are a casual, laid-back buddy.';
const QUESTIONS = [
  'Write a thank-you note to Sam for watering my plants.',
  'What is a busy market like?',
  'Please write an apology to Jordan about the muddy carpet.',
  'Any advice for dealing with a slow computer?',
];

describe('chat transcripts for monitoring', () => {
  it('reads the messages layout and the system/user/assistant layout, the final assistant turn being the response', () => {
    expect(
      parseChatLine('{"messages":[{"role":"system","content":"S"},{"role":"user","content":"U"},{"role":"assistant","content":"A"}],"id":7}', 'f.jsonl', 2),
    ).toEqual({
      line: 2,
      id: '7',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'U' },
      ],
      response: 'A',
    });
    expect(parseChatLine('{"system":"S","user":"U"}', 'f.jsonl', 1)).toEqual({
      line: 1,
      id: undefined,
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'U' },
      ],
      response: undefined,
    });
    expect(parseChatLine('{"prompt":"U","response":"R"}', 'f.jsonl', 1).response).toBe('R');
  });

  it('names the file and line of a bad transcript', () => {
    expect(() => parseChatLine('{"user": 3}', 'data.jsonl', 4)).toThrow(/^data\.jsonl:4: "user" must be a string/);
    expect(() => parseChatLine('nope', 'data.jsonl', 5)).toThrow(/^data\.jsonl:5: not valid JSON/);
    expect(() => parseChatLine('{"messages":[{"role":"assistant","content":"A"}]}', 'data.jsonl', 6)).toThrow(
      /data\.jsonl:6: the prompt must end with a user message/,
    );
    expect(() => parseChatLine('{"messages":[{"role":"robot","content":"A"}]}', 'data.jsonl', 7)).toThrow(/messages\[0\] must be/);
  });

  it('streams a JSONL file, skipping blank lines and keeping line numbers', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mon-'));
    const f = path.join(dir, 'd.jsonl');
    await fs.writeFile(f, '{"user":"a"}\n\n{"user":"b","assistant":"c"}\n');
    const got = [];
    for await (const s of readChatJsonl(f)) got.push([s.line, s.messages[0].content, s.response]);
    expect(got).toEqual([
      [1, 'a', undefined],
      [3, 'b', 'c'],
    ]);
    await expect(async () => {
      for await (const _ of readChatJsonl(path.join(dir, 'missing.jsonl'))) void _;
    }).rejects.toThrow(/missing\.jsonl: no such file/);
  });
});

describe('persona monitor on the stylist', () => {
  let model: LanguageModel;
  let formal: PersonaVector;
  let vivid: PersonaVector;
  beforeAll(async () => {
    model = await loadModel(STYLIST);
    formal = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
    vivid = await loadPersona(path.join(PERSONAS, 'vivid.persona.json'));
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it("equals the library's activations projected on each persona's unit direction, at the prompt end and over the response", async () => {
    const inputs = [
      {
        messages: [
          { role: 'system' as const, content: FORMAL_SYS },
          { role: 'user' as const, content: QUESTIONS[0] },
        ],
        response: 'Dear Sam, thank you sincerely.',
      },
      { messages: [{ role: 'user' as const, content: QUESTIONS[1] }] },
    ];
    const rows = await monitorProjections(model, inputs, [{ persona: formal, layer: 3 }, { persona: vivid }]);
    const seqs = inputs.map((x) => ({
      promptIds: model.tokenizer.encodeChat(x.messages, { addGenerationPrompt: true }),
      answerIds: x.response ? model.tokenizer.encode(x.response) : [],
    }));
    const acts = await extractActivations(model, seqs);
    for (let i = 0; i < 2; i++) {
      expect(rows[i].promptTokens).toBe(seqs[i].promptIds.length);
      expect(rows[i].projections[0]).toMatchObject({ persona: 'formal', layer: 3 });
      expect(rows[i].projections[1]).toMatchObject({ persona: 'vivid', layer: vivid.meta.recommendedLayer });
      expect(rows[i].projections[0].promptLast).toBeCloseTo(project(acts.promptLast[i][3], formal, 3), 5);
      expect(rows[i].projections[1].promptLast).toBeCloseTo(project(acts.promptLast[i][vivid.meta.recommendedLayer], vivid, vivid.meta.recommendedLayer), 5);
    }
    expect(rows[0].responseTokens).toBe(seqs[0].answerIds.length);
    expect(rows[0].projections[0].responseMean).toBeCloseTo(project(acts.responseMean[0][3], formal, 3), 5);
    expect(rows[1].projections[0].responseMean).toBeUndefined();
  });

  it('reads a formal system prompt higher on the formal direction than a casual one, before any answer token', async () => {
    const inputs = [FORMAL_SYS, CASUAL_SYS].flatMap((system) =>
      QUESTIONS.map((q) => ({
        messages: [
          { role: 'system' as const, content: system },
          { role: 'user' as const, content: q },
        ],
      })),
    );
    const rows = await monitorProjections(model, inputs, [{ persona: formal, layer: 3 }]);
    const v = rows.map((r) => r.projections[0].promptLast);
    const formalMin = Math.min(...v.slice(0, 4));
    const casualMax = Math.max(...v.slice(4));
    expect(formalMin).toBeGreaterThan(casualMax);
  });

  it('calibrates: the prompt-end projection correlates with the formality of the sampled answer', async () => {
    const prompts = [FORMAL_SYS, CASUAL_SYS, null].flatMap((system) =>
      QUESTIONS.map((q) => [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: q }]),
    );
    const spec = (await loadMarkersScorer(path.join(STYLIST, 'style_markers.json'))).spec;
    const r = await calibrateMonitor(model, {
      target: { persona: formal, layer: 3 },
      prompts,
      score: (a) => scoreMarkers(spec, a).formality,
      metric: 'formality',
      maxNewTokens: 32,
      resamples: 500,
    });
    expect(r.n).toBe(12);
    expect(r.systems.map((s) => s.system)).toEqual([FORMAL_SYS, CASUAL_SYS, '(no system prompt)']);
    expect(r.pearson.estimate).toBeCloseTo(
      pearson(
        r.points.map((p) => p.projection),
        r.points.map((p) => p.score),
      ),
      12,
    );
    expect(r.pearson.estimate).toBeGreaterThan(0.4);
    expect(r.pearson.lo).toBeLessThanOrEqual(r.pearson.estimate);
    expect(r.pearson.hi).toBeGreaterThanOrEqual(r.pearson.estimate);
    expect(r.byLayer.map((b) => b.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.byLayer[3].pearson.estimate).toBe(r.pearson.estimate);
    const svg = calibrationPlot(r);
    expect(svg).toMatch(/data-plot="scatter"/);
    expect(svg.match(/<circle /g)!.length).toBe(12 + 3); // every answer and each system mean
  });

  it('formats rows as a table, CSV, JSON naming the unit, and a bar chart', async () => {
    const rows = await monitorProjections(
      model,
      [{ messages: [{ role: 'user', content: QUESTIONS[0] }], response: 'hey lol' }],
      [{ persona: formal }, { persona: vivid }],
    );
    const labelled = rows.map((r) => ({ ...r, label: 'line 1', line: 1, prompt: 'a, "quoted" prompt' }));
    expect(monitorTable(labelled)).toMatch(new RegExp(`formal @${formal.meta.recommendedLayer}\\s+vivid @${vivid.meta.recommendedLayer}`));
    const csv = monitorCsv(labelled).trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toMatch(new RegExp(`^line 1,1,,formal,${formal.meta.recommendedLayer},-?\\d`));
    expect(csv[1].endsWith(',"a, ""quoted"" prompt"')).toBe(true);
    expect(JSON.parse(monitorJson(labelled)).unit).toBe(MONITOR_UNIT);
    expect(monitorPlot(labelled)).toMatch(/formal \(response mean\)/);
  });
});

describe('persona monitor on the command line', () => {
  function persona(args: string[]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, cwd: ROOT });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  it('prints the same projections as the library, as JSON, and writes a plot', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moncli-'));
    const input = path.join(dir, 'chats.jsonl');
    await fs.writeFile(
      input,
      [
        JSON.stringify({ system: FORMAL_SYS, user: QUESTIONS[0] }),
        JSON.stringify({
          messages: [
            { role: 'user', content: QUESTIONS[1] },
            { role: 'assistant', content: 'hey!! gonna be fun lol' },
          ],
        }),
      ].join('\n') + '\n',
    );
    const plot = path.join(dir, 'm.svg');
    const r = persona(['monitor', '-p', path.join(PERSONAS, 'formal.persona.json'), '-i', input, '--format', 'json', '--plot', plot]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.unit).toBe(MONITOR_UNIT);
    const model = await loadModel(STYLIST);
    try {
      const f = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
      const lib = await monitorProjections(
        model,
        [
          {
            messages: [
              { role: 'system', content: FORMAL_SYS },
              { role: 'user', content: QUESTIONS[0] },
            ],
          },
          { messages: [{ role: 'user', content: QUESTIONS[1] }], response: 'hey!! gonna be fun lol' },
        ],
        [{ persona: f }],
      );
      expect(doc.rows.map((x: { projections: { promptLast: number }[] }) => x.projections[0].promptLast)).toEqual(lib.map((x) => x.projections[0].promptLast));
      expect(doc.rows[1].projections[0].responseMean).toBe(lib[1].projections[0].responseMean);
    } finally {
      await model.dispose();
    }
    expect(await fs.readFile(plot, 'utf8')).toMatch(/data-plot="bar"/);
  });

  it('says what is missing instead of monitoring nothing', () => {
    const none = persona(['monitor', '--prompt', 'Hi']);
    expect(none.code).not.toBe(0);
    expect(none.err).toMatch(/needs at least one --persona/);
    const nothing = persona(['monitor', '-p', path.join(PERSONAS, 'formal.persona.json')]);
    expect(nothing.err).toMatch(/Nothing to monitor: give --input/);
    const markers = persona(['monitor', '-p', path.join(PERSONAS, 'formal.persona.json'), '--prompt', 'Hi', '--metric', 'formality']);
    expect(markers.err).toMatch(/--markers and --metric are used by --calibrate only/);
  });
});
