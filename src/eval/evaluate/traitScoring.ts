/**
 * Which scorer reads the personas' traits from the answers: lexical markers from a JSON file, or an
 * LLM judge behind an OpenAI-compatible endpoint (one trait per persona, plus coherence), and which
 * metric is each persona's own.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import type { PersonaVector } from '../../steering/PersonaVector.js';
import { createJudgeScorer, type JudgeCounts, type JudgeOptions } from '../scorers/judgeScorer.js';
import { loadMarkersScorer, type MarkerSpec } from '../scorers/markersScorer.js';
import type { Scorer } from '../scorers/Scorer.js';
import { isStylistLike } from './questionSets.js';
import { readPersonaVectorsArtifact } from '../../persona/prompts/personaVectorsArtifact.js';

/**
 * A trait scorer as the CLI names it: `markers:FILE` or `judge:URL[,model=NAME][,key-env=VAR]`.
 *
 * @example const spec: ScorerSpec = { kind: 'markers', file: 'models/stylist/style_markers.json' };
 */
export type ScorerSpec = { kind: 'markers'; file: string } | { kind: 'judge'; baseURL: string; model: string; apiKeyEnv?: string; traitData?: string };

/**
 * Parses `markers:FILE` or `judge:URL[,model=NAME][,key-env=VAR]` (the key is read from the named
 * environment variable, default `OPENAI_API_KEY`, never from the command line).
 *
 * @example parseScorerSpec('judge:http://127.0.0.1:8080/v1,model=qwen'); // { kind: 'judge', baseURL: 'http://127.0.0.1:8080/v1', model: 'qwen' }
 * @example parseScorerSpec('markers:models/stylist/style_markers.json'); // { kind: 'markers', file: '…' }
 */
export function parseScorerSpec(text: string): ScorerSpec {
  const at = text.indexOf(':');
  const kind = at < 0 ? text : text.slice(0, at);
  const rest = at < 0 ? '' : text.slice(at + 1);
  if (kind === 'markers') {
    if (!rest) throw new InvalidArgumentError('--scorer markers:FILE needs the marker-list JSON file, e.g. markers:models/stylist/style_markers.json');
    return { kind, file: rest };
  }
  if (kind === 'judge') {
    const [url, ...opts] = rest.split(',');
    if (!url)
      throw new InvalidArgumentError('--scorer judge:URL needs the base URL of an OpenAI-compatible API, e.g. judge:http://127.0.0.1:8080/v1,model=judge');
    const spec: ScorerSpec = { kind, baseURL: url, model: 'default' };
    for (const o of opts) {
      const eq = o.indexOf('=');
      const key = o.slice(0, eq).trim();
      const value = o.slice(eq + 1).trim();
      if (eq < 0 || !value) throw new InvalidArgumentError(`--scorer judge option "${o}" is not key=value (model=NAME or key-env=VAR)`);
      if (key === 'model') spec.model = value;
      else if (key === 'key-env') spec.apiKeyEnv = value;
      else if (key === 'trait-data')
        spec.traitData = value; // a persona_vectors trait file: its eval_prompt is the judge's trait prompt
      else throw new InvalidArgumentError(`--scorer judge knows the options model=, key-env= and trait-data=; got "${key}"`);
    }
    return spec;
  }
  throw new InvalidArgumentError(`--scorer must be markers:FILE or judge:URL[,model=NAME]; got "${text}"`);
}

/**
 * The default trait scorer of a model: the marker lists its folder ships (`style_markers.json`, as
 * the stylist does), else none (projections and coherence proxies only).
 *
 * @example defaultScorerSpec(model.dir); // { kind: 'markers', file: '…/models/stylist/style_markers.json' } for the stylist
 */
export function defaultScorerSpec(modelDir: string): ScorerSpec | undefined {
  return isStylistLike(modelDir) ? { kind: 'markers', file: path.join(modelDir, 'style_markers.json') } : undefined;
}

/**
 * The trait side of an evaluation: scorers to run and which metric belongs to which persona.
 *
 * @example const ts: TraitScoring = await buildTraitScoring(spec, [formal]); ts.traitMetric.formal; // 'formality'
 */
export interface TraitScoring {
  /** e.g. `markers (style_markers.json)` or `judge qwen at http://…`. */
  description: string;
  /** Scorers run on every answer (their metric names are unique). */
  scorers: Scorer[];
  /** Each persona's own trait metric, by persona name; absent when the scorer has none for it. */
  traitMetric: Record<string, string>;
  /** Metrics that measure a trait (for entanglement), in display order. */
  traitMetrics: string[];
  /** Judge outcome counts per metric (refused and unparseable answers are counted, not dropped). */
  judgeCounts?: () => Record<string, JudgeCounts>;
}

/**
 * No trait scorer: projections and coherence proxies only.
 *
 * @example await evaluatePersonas(model, { personas, questions, traitScoring: NO_TRAIT_SCORING });
 */
export const NO_TRAIT_SCORING: TraitScoring = { description: 'none (projection and coherence proxies only)', scorers: [], traitMetric: {}, traitMetrics: [] };

/**
 * The marker metric that is a persona's own: an axis whose positive list is named like the persona
 * (`formal` → `formality`), else a list of that name (`vivid`), else an axis of that name.
 *
 * @example markerTraitMetric(spec, 'formal'); // 'formality'
 */
export function markerTraitMetric(spec: MarkerSpec, personaName: string): string | undefined {
  const name = personaName.toLowerCase();
  const axis = Object.entries(spec.axes).find(([, [pos]]) => pos.toLowerCase() === name);
  if (axis) return axis[0];
  if (spec.lists[name]) return name;
  if (spec.axes[name]) return name;
  return undefined;
}

/**
 * Builds the trait scoring for personas from a spec: markers (metrics: the file's axes and lists;
 * trait metrics: the axes and the lists no axis uses), or a judge with one trait per persona
 * (`judge:NAME`, scored 0–100 from the persona's description) and `judge:coherence`. `overrides`
 * names a persona's own metric when the automatic match is wrong.
 *
 * @example const ts = await buildTraitScoring({ kind: 'markers', file: 'models/stylist/style_markers.json' }, [formal, vivid]); // ts.traitMetric.formal === 'formality'
 */
export async function buildTraitScoring(
  spec: ScorerSpec | undefined,
  personas: PersonaVector[],
  overrides: Record<string, string> = {},
  judgeOptions: Partial<JudgeOptions> = {},
): Promise<TraitScoring> {
  if (!spec) return { ...NO_TRAIT_SCORING, traitMetric: { ...overrides } };
  if (spec.kind === 'markers') {
    const markers = await loadMarkersScorer(spec.file);
    const inAxis = new Set(Object.values(markers.spec.axes).flat());
    const traitMetrics = [...Object.keys(markers.spec.axes), ...Object.keys(markers.spec.lists).filter((l) => !inAxis.has(l))];
    const traitMetric: Record<string, string> = {};
    for (const p of personas) {
      const m = overrides[p.name] ?? markerTraitMetric(markers.spec, p.name);
      if (m) traitMetric[p.name] = m;
    }
    checkOverrides(overrides, markers.metrics);
    return { description: `markers (${spec.file.replace(/^.*[\\/]/, '')})`, scorers: [markers], traitMetric, traitMetrics };
  }
  const apiKey = process.env[spec.apiKeyEnv ?? 'OPENAI_API_KEY'];
  const traitPrompt = spec.traitData ? (await readPersonaVectorsArtifact(spec.traitData)).eval_prompt : undefined;
  const judges = personas.map((p, i) => {
    const judge = createJudgeScorer({
      ...judgeOptions,
      ...(traitPrompt ? { traitPrompt } : {}),
      baseURL: spec.baseURL,
      model: spec.model,
      apiKey,
      trait: { name: p.meta.description ?? p.name, description: p.meta.description ?? `answers that express the persona "${p.name}"` },
      metrics: i === 0 ? ['trait', 'coherence'] : ['trait'],
    });
    const rename: Record<string, string> = { trait: `judge:${p.name}`, coherence: 'judge:coherence' };
    const scorer: Scorer = {
      name: `judge:${p.name}`,
      metrics: judge.metrics.map((m) => rename[m]),
      async score(items) {
        return (await judge.score(items)).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [rename[k], v])));
      },
    };
    return { judge, scorer, rename };
  });
  const traitMetric = Object.fromEntries(personas.map((p) => [p.name, overrides[p.name] ?? `judge:${p.name}`]));
  return {
    description: `judge ${spec.model} at ${spec.baseURL}${spec.traitData ? ` with the eval_prompt of ${spec.traitData.replace(/^.*[\\/]/, '')}` : ''}`,
    scorers: judges.map((j) => j.scorer),
    traitMetric,
    traitMetrics: personas.map((p) => `judge:${p.name}`),
    judgeCounts: () => Object.assign({}, ...judges.map((j) => Object.fromEntries(Object.entries(j.judge.counts()).map(([k, v]) => [j.rename[k], v])))),
  };
}

function checkOverrides(overrides: Record<string, string>, metrics: string[]): void {
  for (const [p, m] of Object.entries(overrides)) {
    if (!metrics.includes(m)) throw new InvalidArgumentError(`trait metric "${m}" for persona ${p} is not one the scorer gives (${metrics.join(', ')})`);
  }
}
