import { InvalidArgumentError } from '../../errors.js';
import { readJsonFile } from '../../util/readJsonFile.js';
import type { Scorer, ScoreItem } from './Scorer.js';

/**
 * A marker-list file, e.g. `models/stylist/style_markers.json`: every array of strings is a list of
 * lexical markers; `axes` names bipolar metrics as [positive list, negative list]; `scoring`
 * describes the rule in words (kept for reports; the rule itself is the one below).
 */
export interface MarkerSpec {
  lists: Record<string, string[]>;
  axes: Record<string, [string, string]>;
  scoring?: string;
}

/** Opposing lists recognised without an explicit `axes` field. */
const KNOWN_AXES: Record<string, [string, string]> = { formality: ['formal', 'casual'] };

/**
 * Non-overlapping occurrences of `needle` in `haystack`, scanning left to right — Python's
 * `str.count`: `countOccurrences('aaaa', 'aa') === 2`.
 *
 * @example countOccurrences('!!!!!', '!!'); // 2
 */
export function countOccurrences(haystack: string, needle: string): number {
  if (needle.length === 0) throw new InvalidArgumentError('a marker must not be empty');
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * Validates a parsed marker-list JSON object into a {@link MarkerSpec}: arrays of strings are lists,
 * `axes` (optional) maps a metric to `[positive, negative]` list names, defaulting to
 * `formality: [formal, casual]` when both lists exist; other string fields are comments.
 *
 * @example parseMarkerSpec({ formal: ['dear'], casual: ['hey'] }).axes; // { formality: ['formal', 'casual'] }
 */
export function parseMarkerSpec(json: unknown, source = 'marker file'): MarkerSpec {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidArgumentError(`${source}: expected a JSON object of marker lists.`);
  const lists: Record<string, string[]> = {};
  let axes: Record<string, [string, string]> | undefined;
  let scoring: string | undefined;
  for (const [key, value] of Object.entries(json)) {
    if (key === 'axes') {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new InvalidArgumentError(`${source}: "axes" must be an object such as {"formality": ["formal", "casual"]}.`);
      axes = {};
      for (const [axis, pair] of Object.entries(value)) {
        if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string'))
          throw new InvalidArgumentError(`${source}: axis "${axis}" must be a pair of list names, e.g. ["formal", "casual"].`);
        axes[axis] = [pair[0], pair[1]];
      }
    } else if (Array.isArray(value)) {
      if (!value.every((m) => typeof m === 'string' && m.length > 0))
        throw new InvalidArgumentError(`${source}: list "${key}" must hold non-empty strings only.`);
      lists[key] = value.map((m: string) => m.toLowerCase());
    } else if (typeof value === 'string') {
      if (key === 'scoring') scoring = value;
    } else {
      throw new InvalidArgumentError(`${source}: field "${key}" is neither a list of markers nor a string.`);
    }
  }
  if (Object.keys(lists).length === 0) throw new InvalidArgumentError(`${source}: holds no marker lists.`);
  if (!axes) {
    axes = {};
    for (const [axis, [pos, neg]] of Object.entries(KNOWN_AXES)) if (lists[pos] && lists[neg]) axes[axis] = [pos, neg];
  }
  for (const [axis, [pos, neg]] of Object.entries(axes)) {
    for (const l of [pos, neg]) if (!lists[l]) throw new InvalidArgumentError(`${source}: axis "${axis}" names the list "${l}", which the file does not have.`);
    if (lists[axis]) throw new InvalidArgumentError(`${source}: axis "${axis}" has the same name as a list.`);
  }
  return { lists, axes, scoring };
}

/**
 * Scores one answer: lower-case it; each list's value is the sum over its markers of non-overlapping
 * substring counts (Python `str.count`); each axis is (pos − neg) / max(1, pos + neg), in [−1, 1].
 *
 * @example scoreMarkers(spec, 'Dear Sam, hey!!'); // { formality: 0, formal: 1, casual: 2, vivid: 0 }
 */
export function scoreMarkers(spec: MarkerSpec, answer: string): Record<string, number> {
  const text = answer.toLowerCase();
  const counts: Record<string, number> = {};
  for (const [name, markers] of Object.entries(spec.lists)) {
    let c = 0;
    for (const m of markers) c += countOccurrences(text, m);
    counts[name] = c;
  }
  const row: Record<string, number> = {};
  for (const [axis, [pos, neg]] of Object.entries(spec.axes)) row[axis] = (counts[pos] - counts[neg]) / Math.max(1, counts[pos] + counts[neg]);
  return Object.assign(row, counts);
}

/** A {@link Scorer} over lexical marker lists; `spec` is what it scores with. */
export interface MarkersScorer extends Scorer {
  spec: MarkerSpec;
}

/**
 * A deterministic scorer from marker lists held in memory. Metrics: the axes first, then one count
 * per list, in file order.
 *
 * @example const s = createMarkersScorer({ lists: { formal: ['dear'], casual: ['hey'] }, axes: { formality: ['formal', 'casual'] } });
 */
export function createMarkersScorer(spec: MarkerSpec): MarkersScorer {
  const metrics = [...Object.keys(spec.axes), ...Object.keys(spec.lists)];
  return {
    name: 'markers',
    metrics,
    spec,
    async score(items: ScoreItem[]) {
      return items.map((it) => scoreMarkers(spec, it.answer));
    },
  };
}

/**
 * Loads a marker-list JSON file (such as `models/stylist/style_markers.json`) as a scorer. For the
 * stylist file each answer gets `{ formality, formal, casual, vivid }`.
 *
 * @example
 * const markers = await loadMarkersScorer('models/stylist/style_markers.json');
 * const [row] = await markers.score([{ question: 'Invite Sam.', answer: 'Dear Sam, kindly join us.' }]);
 * row.formality; // 1
 */
export async function loadMarkersScorer(jsonPath: string): Promise<MarkersScorer> {
  const json = await readJsonFile(jsonPath, { errorClass: InvalidArgumentError });
  return createMarkersScorer(parseMarkerSpec(json, `Marker file ${jsonPath}`));
}
