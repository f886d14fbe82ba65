import { InvalidArgumentError } from '../errors.js';
import type { Prompt } from '../engine/LanguageModel.js';
import type { PairFilterRecord } from '../steering/PersonaVector.js';

/**
 * The judge's bounds for keeping a pair: the positive answer's trait score at least `positive`, the
 * negative answer's below `negative`, and both answers' coherence at least `coherence` (0–100).
 *
 * @example const t: PairFilterThresholds = { positive: 50, negative: 50, coherence: 50 };
 */
export interface PairFilterThresholds {
  positive: number;
  negative: number;
  coherence: number;
}

/**
 * persona_vectors' bounds (`generate_vec.py`, `get_persona_effective`, threshold 50): positive trait
 * ≥ 50, negative trait < 100 − 50, coherence ≥ 50 on both answers.
 *
 * @example judgePairFilter(judge, { description: 'judge gpt-4.1-mini', thresholds: PERSONA_VECTORS_THRESHOLDS });
 */
export const PERSONA_VECTORS_THRESHOLDS: Readonly<PairFilterThresholds> = Object.freeze({ positive: 50, negative: 50, coherence: 50 });

/** One pair as the filter sees it: the request and the two answers. */
export interface FilterPair {
  question: string;
  positive: string;
  negative: string;
}

/**
 * Decides which answer pairs a persona is learned from (all at once, so a judge can grade them
 * concurrently). `description` and `thresholds` are recorded in the persona file.
 *
 * @example const f: PairFilter = { description: 'longer than 3 words', keep: async (ps) => ({ keep: ps.map((p) => p.positive.split(' ').length > 3) }) };
 */
export interface PairFilter {
  description: string;
  thresholds?: PairFilterThresholds;
  keep(pairs: FilterPair[], signal?: AbortSignal): Promise<{ keep: boolean[]; unscored?: number }>;
}

/**
 * What grades an answer for the judge filter: any scorer whose rows carry `trait` and `coherence`
 * (0–100, `null` when it could not score) — `createJudgeScorer` with both metrics is one.
 */
export interface PairScorer {
  score(items: Array<{ question: string; answer: string }>): Promise<Array<Record<string, number | null>>>;
}

/**
 * persona_vectors' filter of extraction pairs: a judge grades both answers of every pair for the trait
 * and for coherence, and a pair is kept when the positive answer expresses the trait (≥ `positive`),
 * the negative one does not (< `negative`) and both are coherent (≥ `coherence`). A pair with an
 * answer the judge could not score (refused, unparseable) is dropped and counted as unscored.
 *
 * @example
 * const judge = createJudgeScorer({ baseURL, model: 'judge', trait: { name: 'formal', description: 'formal' }, metrics: ['trait', 'coherence'] });
 * await computePersonaVector({ model, positivePrompts, negativePrompts, pairFilter: judgePairFilter(judge, { description: 'judge at ' + baseURL }) });
 */
export function judgePairFilter(scorer: PairScorer, o: { description: string; thresholds?: PairFilterThresholds }): PairFilter {
  const t = o.thresholds ?? PERSONA_VECTORS_THRESHOLDS;
  checkThresholds(t);
  return {
    description: o.description,
    thresholds: { ...t },
    async keep(pairs) {
      const rows = await scorer.score([
        ...pairs.map((p) => ({ question: p.question, answer: p.positive })),
        ...pairs.map((p) => ({ question: p.question, answer: p.negative })),
      ]);
      let unscored = 0;
      const keep = pairs.map((_, i) => {
        const pos = rows[i];
        const neg = rows[pairs.length + i];
        const v = [pos.trait, neg.trait, pos.coherence, neg.coherence];
        if (v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
          unscored++;
          return false;
        }
        const [pt, nt, pc, nc] = v as number[];
        return pt >= t.positive && nt < t.negative && pc >= t.coherence && nc >= t.coherence;
      });
      return { keep, unscored };
    },
  };
}

/**
 * Parses `POS,NEG,COH` (each 0–100) into thresholds.
 *
 * @example parseFilterThresholds('60,40,50'); // { positive: 60, negative: 40, coherence: 50 }
 */
export function parseFilterThresholds(text: string): PairFilterThresholds {
  const parts = text.split(',').map((x) => x.trim());
  const nums = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => p === '') || nums.some((x) => !Number.isFinite(x))) {
    throw new InvalidArgumentError(
      `--filter-thresholds takes three numbers POS,NEG,COH (positive trait ≥ POS, negative trait < NEG, coherence ≥ COH on both; persona_vectors: 50,50,50); got "${text}".`,
    );
  }
  const t = { positive: nums[0], negative: nums[1], coherence: nums[2] };
  checkThresholds(t);
  return t;
}

function checkThresholds(t: PairFilterThresholds): void {
  for (const [k, v] of Object.entries(t)) {
    if (!(Number.isFinite(v) && v >= 0 && v <= 100)) throw new InvalidArgumentError(`The pair filter's ${k} threshold is a judge score in [0, 100]; got ${v}.`);
  }
}

/** The fewest pairs a filter may leave by default: 10% of the pairs, at least 2. */
export function defaultMinPairs(pairs: number): number {
  return Math.max(2, Math.ceil(pairs / 10));
}

/**
 * Runs a filter over the row-aligned answers and says which pairs stay, with the record a persona
 * file keeps; fewer than `minPairs` kept pairs is an error that names the counts and the bounds.
 *
 * @example const { kept, record } = await applyPairFilter(filter, pairs, { minPairs: 10 });
 */
export async function applyPairFilter(
  filter: PairFilter,
  pairs: FilterPair[],
  o: { minPairs?: number; signal?: AbortSignal } = {},
): Promise<{ kept: number[]; record: PairFilterRecord }> {
  const { keep, unscored } = await filter.keep(pairs, o.signal);
  if (keep.length !== pairs.length) throw new InvalidArgumentError(`The pair filter answered for ${keep.length} of ${pairs.length} pairs.`);
  const kept = keep.flatMap((k, i) => (k ? [i] : []));
  const record: PairFilterRecord = {
    by: filter.description,
    ...(filter.thresholds ? { thresholds: { ...filter.thresholds } } : {}),
    pairs: pairs.length,
    kept: kept.length,
    dropped: pairs.length - kept.length,
    ...(unscored !== undefined ? { unscored } : {}),
  };
  const minPairs = o.minPairs ?? defaultMinPairs(pairs.length);
  if (kept.length < minPairs) {
    const t = filter.thresholds;
    const rule = t ? ` (positive trait ≥ ${t.positive}, negative trait < ${t.negative}, coherence ≥ ${t.coherence} on both answers)` : '';
    const why = unscored ? `; ${unscored} of the dropped pairs had an answer the judge could not score` : '';
    throw new InvalidArgumentError(
      `The pair filter (${filter.description}) kept ${kept.length} of ${pairs.length} pairs${rule}${why}; at least ${minPairs} are needed. The answers do not show the persona as the filter asks: check the prompts and the judge, or lower the bounds (--filter-thresholds) or the minimum (--filter-min-pairs).`,
    );
  }
  return { kept, record };
}

/** The request of a prompt, as the judge is shown it (the last user message of a chat). */
export function promptQuestion(p: Prompt): string {
  if (typeof p === 'string') return p;
  if (Array.isArray(p)) return [...p].reverse().find((m) => m.role === 'user')?.content ?? '';
  return p.user;
}

/** One line on a filter's outcome, as `train` and `create` print it. */
export function pairFilterSummary(r: PairFilterRecord): string {
  const t = r.thresholds ? ` (positive ≥ ${r.thresholds.positive}, negative < ${r.thresholds.negative}, coherence ≥ ${r.thresholds.coherence})` : '';
  return `pair filter: kept ${r.kept} of ${r.pairs} pairs, dropped ${r.dropped}${r.unscored ? ` (${r.unscored} with an answer the judge could not score)` : ''}; ${r.by}${t}`;
}
