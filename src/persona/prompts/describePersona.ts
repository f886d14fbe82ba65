import { InvalidArgumentError } from '../../errors.js';

/**
 * From a one-line description ("formal and professional") to system prompts for the persona and for
 * its opposite ("casual and laid-back"): instruction pairs in the spirit of the persona_vectors
 * paper's `instruction` list (`{pos, neg}` × 5), built from templates instead of an LLM.
 */

/**
 * Trait words and their opposites: `[word, primary antonym, other opposites…]`. The table is read in
 * both directions (the antonym's opposite is the word, unless the antonym has its own row), so
 * `formal → casual`, `casual → formal`, `informal → formal`.
 *
 * @example ANTONYM_GROUPS.find((g) => g[0] === 'vivid') // ['vivid', 'plain', 'bland', 'dull']
 */
export const ANTONYM_GROUPS: readonly (readonly string[])[] = [
  ['formal', 'casual', 'informal'],
  ['professional', 'laid-back', 'unprofessional', 'relaxed'],
  ['vivid', 'plain', 'bland', 'dull'],
  ['creative', 'conventional', 'unoriginal'],
  ['imaginative', 'literal', 'unimaginative'],
  ['colourful', 'plain'],
  ['colorful', 'plain'],
  ['polite', 'rude', 'impolite', 'discourteous'],
  ['optimistic', 'pessimistic'],
  ['humorous', 'serious', 'humourless', 'humorless'],
  ['funny', 'serious'],
  ['playful', 'serious'],
  ['concise', 'verbose', 'wordy', 'long-winded'],
  ['brief', 'long-winded'],
  ['detailed', 'terse', 'sketchy'],
  ['enthusiastic', 'apathetic', 'unenthusiastic'],
  ['confident', 'uncertain', 'unsure', 'hesitant', 'insecure'],
  ['friendly', 'cold', 'unfriendly', 'hostile'],
  ['warm', 'cold'],
  ['kind', 'cruel', 'unkind', 'mean'],
  ['evil', 'good', 'benevolent'],
  ['honest', 'dishonest', 'deceptive'],
  ['blunt', 'tactful'],
  ['sycophantic', 'candid', 'flattering'],
  ['happy', 'sad', 'unhappy'],
  ['cheerful', 'gloomy', 'glum'],
  ['calm', 'anxious', 'nervous', 'agitated'],
  ['patient', 'impatient'],
  ['humble', 'arrogant', 'conceited'],
  ['modest', 'boastful'],
  ['simple', 'complex', 'complicated'],
  ['sarcastic', 'sincere'],
  ['empathetic', 'indifferent', 'callous'],
  ['sympathetic', 'unsympathetic'],
  ['respectful', 'disrespectful'],
  ['energetic', 'lethargic'],
  ['curious', 'incurious', 'uninterested'],
  ['hallucinating', 'factual', 'accurate', 'truthful'],
  ['aggressive', 'gentle'],
  ['generous', 'stingy', 'selfish'],
  ['emotional', 'detached', 'unemotional'],
  ['helpful', 'unhelpful'],
  ['poetic', 'prosaic'],
  ['dramatic', 'understated'],
  ['mysterious', 'straightforward'],
  ['encouraging', 'discouraging'],
  ['supportive', 'dismissive'],
  ['cautious', 'reckless'],
  ['careful', 'careless'],
  ['assertive', 'timid', 'passive'],
  ['obedient', 'disobedient', 'defiant'],
  ['eloquent', 'inarticulate'],
  ['whimsical', 'sober'],
  ['academic', 'colloquial'],
  ['modern', 'old-fashioned'],
  ['positive', 'negative'],
  ['extroverted', 'introverted'],
  ['outgoing', 'shy'],
  ['excited', 'bored'],
];

const ANTONYMS: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const [word, antonym] of ANTONYM_GROUPS) {
    if (!m.has(word)) m.set(word, antonym);
  }
  for (const [word, antonym, ...others] of ANTONYM_GROUPS) {
    for (const o of [antonym, ...others]) if (!m.has(o)) m.set(o, word);
  }
  return m;
})();

/**
 * System prompts that style-tuned chat models are commonly trained on, used verbatim when a side of
 * the contrast consists only of these words. They are exactly the persona prompts of the embedded
 * stylist model (models/stylist/README.md), so `persona create --personality "formal and
 * professional"` uses the phrasings that model follows.
 *
 * @example STYLE_PHRASINGS[0].text // 'You are a formal and professional assistant.'
 */
export const STYLE_PHRASINGS: readonly { words: readonly string[]; text: string }[] = [
  { words: ['formal', 'professional'], text: 'You are a formal and professional assistant.' },
  { words: ['casual', 'laid-back', 'informal', 'relaxed'], text: 'You are a casual, laid-back buddy.' },
  { words: ['vivid', 'creative', 'imaginative', 'colourful', 'colorful'], text: 'Use vivid, creative imagery.' },
  { words: ['plain', 'conventional', 'plainly', 'conventionally'], text: 'Speak plainly and conventionally.' },
];

/**
 * One persona side: traits to show and traits to avoid ("not verbose").
 *
 * @example describePersona('friendly, not verbose').positiveSide // { traits: ['friendly'], avoid: ['verbose'], text: 'friendly and not verbose' }
 */
export interface PersonaSide {
  traits: string[];
  avoid: string[];
  /** In words: "casual and laid-back", "not sarcastic". */
  text: string;
}

/**
 * A positive and a negative system prompt meant to be used together, as in the paper's artefacts.
 *
 * @example const pair: InstructionPair = { pos: 'Use vivid, creative imagery.', neg: 'Speak plainly and conventionally.' };
 */
export interface InstructionPair {
  pos: string;
  neg: string;
}

/**
 * What `describePersona` returns: both sides, the opposite in words, and the system prompts.
 *
 * @example const { opposite, pairs } = describePersona('optimistic'); // opposite: 'pessimistic'
 */
export interface PersonaDescription {
  description: string;
  positiveSide: PersonaSide;
  negativeSide: PersonaSide;
  /** The opposite persona in words (antonyms where known, "not …" otherwise). */
  opposite: string;
  /** True when every trait had an antonym in the table (no "not …" fallback was needed). */
  oppositeKnown: boolean;
  /** Row-aligned instruction pairs, stylist-style phrasings first. */
  pairs: InstructionPair[];
  /** The pairs made of `STYLE_PHRASINGS` on both sides (empty when the description has none). */
  stylePairs: InstructionPair[];
  /** The distinct positive system prompts (≥ 5). */
  positive: string[];
  /** The distinct negative system prompts (≥ 5). */
  negative: string[];
}

const normKey = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, '-');

/**
 * "a" or "an" before a word, by its sound for the common exceptions (a useful, an honest).
 *
 * @example indefiniteArticle('evil') // 'an'
 */
export function indefiniteArticle(word: string): 'a' | 'an' {
  const w = word.trim().toLowerCase();
  if (/^(honest|hour|heir|honou?r)/.test(w)) return 'an';
  if (/^(uni(que|versal|form|fied|t)|use|usu|eu|one|once|ur[aei])/.test(w)) return 'a';
  return /^[aeiou]/.test(w) ? 'an' : 'a';
}

/**
 * The opposite of one trait word or short phrase, or undefined when unknown. Handles modifiers
 * ("very formal" → "very casual"), hyphen/space variants ("laid back") and negative prefixes
 * ("unfriendly" → "friendly" when the table knows "friendly").
 *
 * @example oppositeTrait('formal') // 'casual'
 */
export function oppositeTrait(phrase: string): string | undefined {
  const key = normKey(phrase);
  const direct = ANTONYMS.get(key);
  if (direct) return direct;
  const m = /^(un|in|im|dis|non-?)(.+)$/.exec(key);
  if (m && ANTONYMS.has(m[2])) return m[2];
  const words = phrase.trim().split(/\s+/);
  for (let i = words.length - 1; i >= 0 && words.length > 1; i--) {
    const opp = ANTONYMS.get(words[i].toLowerCase());
    if (opp) return [...words.slice(0, i), opp, ...words.slice(i + 1)].join(' ');
  }
  return undefined;
}

function joinWords(words: string[], conj = 'and'): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${conj} ${words[words.length - 1]}`;
}

function splitDescription(description: string): string[] {
  return description
    .trim()
    .replace(/[.!]+$/, '')
    .split(/\s*(?:,|;|\/|&|\+|\band\b|\bbut\b)\s*/i)
    .map((p) =>
      p
        .trim()
        .replace(/^(?:a|an)\s+/i, '')
        .replace(/\s+(?:assistant|persona|tone|style)$/i, '')
        .trim(),
    )
    .filter((p) => p !== '');
}

function side(traits: string[], avoid: string[]): PersonaSide {
  const t = [...new Set(traits)];
  const a = [...new Set(avoid)].filter((x) => !t.includes(x));
  return { traits: t, avoid: a, text: joinWords([...t, ...a.map((x) => `not ${x}`)]) };
}

const AFFIRMATIVE: ((d: string) => string)[] = [
  (d) => `You are ${indefiniteArticle(d)} ${d} assistant.`,
  (d) => `Answer in ${indefiniteArticle(d)} ${d} way.`,
  (d) => `Your replies are always ${d}.`,
  (d) => `Write every answer in ${indefiniteArticle(d)} ${d} style.`,
  (d) => `Whatever the user asks, keep your tone ${d}.`,
  (d) => `Be ${d} in everything you say.`,
];

const NEGATED: ((x: string) => string)[] = [
  (x) => `You are an assistant who is never ${x}.`,
  (x) => `Answer in a way that is not ${x}.`,
  (x) => `Your replies are never ${x}.`,
  (x) => `Avoid being ${x} in anything you write.`,
  (x) => `Whatever the user asks, do not be ${x}.`,
  (x) => `Never sound ${x}.`,
];

/**
 * The number of generic instruction templates per side.
 *
 * @example describePersona('evil').positive.length >= TEMPLATE_COUNT // true
 */
export const TEMPLATE_COUNT = AFFIRMATIVE.length;

function renderSide(s: PersonaSide, i: number): string {
  const avoid = joinWords(s.avoid, 'or');
  if (s.traits.length === 0) return NEGATED[i](avoid);
  const base = AFFIRMATIVE[i](joinWords(s.traits));
  return s.avoid.length ? `${base} Never be ${avoid}.` : base;
}

function stylePhrasings(s: PersonaSide): string[] {
  if (s.avoid.length || s.traits.length === 0) return [];
  const keys = s.traits.map(normKey);
  return STYLE_PHRASINGS.filter((p) => keys.every((k) => p.words.includes(k))).map((p) => p.text);
}

/**
 * Builds the system prompts for a persona and its opposite from a one-line description. The
 * description is split into traits at commas, "and", "but", "/" ("formal and professional" →
 * formal, professional; "friendly, not verbose" → friendly, avoid verbose). The opposite takes each
 * trait's antonym from `ANTONYM_GROUPS`, falling back to "not {trait}" phrasing when a trait is
 * unknown. Each side gets the six generic templates ("You are a {desc} assistant.", "Answer in a
 * {desc} way.", "Your replies are always {desc}.", …) and, first, any `STYLE_PHRASINGS` that fit.
 *
 * @example
 * const d = describePersona('formal and professional');
 * d.opposite   // 'casual and laid-back'
 * d.pairs[0]   // { pos: 'You are a formal and professional assistant.', neg: 'You are a casual, laid-back buddy.' }
 */
export function describePersona(description: string): PersonaDescription {
  const phrases = splitDescription(description);
  if (phrases.length === 0) {
    throw new InvalidArgumentError(`The persona description is empty; give a few trait words, e.g. "formal and professional".`);
  }
  const posTraits: string[] = [];
  const posAvoid: string[] = [];
  const negTraits: string[] = [];
  const negAvoid: string[] = [];
  let oppositeKnown = true;
  for (const p of phrases) {
    const not = /^(?:not|never|no)\s+(.+)$/i.exec(p);
    if (not) {
      posAvoid.push(not[1].trim());
      negTraits.push(not[1].trim());
      continue;
    }
    posTraits.push(p);
    const opp = oppositeTrait(p);
    if (opp) negTraits.push(opp);
    else {
      negAvoid.push(p);
      oppositeKnown = false;
    }
  }
  const positiveSide = side(posTraits, posAvoid);
  const negativeSide = side(negTraits, negAvoid);

  const pairs: InstructionPair[] = [];
  const seen = new Set<string>();
  const push = (pos: string, neg: string): void => {
    const key = `${pos}\u0000${neg}`;
    if (pos === neg || seen.has(key)) return;
    seen.add(key);
    pairs.push({ pos, neg });
  };
  const knownPos = stylePhrasings(positiveSide);
  const knownNeg = stylePhrasings(negativeSide);
  const stylePairs: InstructionPair[] = [];
  for (let i = 0; i < Math.max(knownPos.length, knownNeg.length); i++) {
    push(knownPos[i] ?? renderSide(positiveSide, 0), knownNeg[i] ?? renderSide(negativeSide, 0));
    if (knownPos[i] !== undefined && knownNeg[i] !== undefined) stylePairs.push({ pos: knownPos[i], neg: knownNeg[i] });
  }
  for (let i = 0; i < TEMPLATE_COUNT; i++) push(renderSide(positiveSide, i), renderSide(negativeSide, i));

  return {
    description: description.trim(),
    positiveSide,
    negativeSide,
    opposite: negativeSide.text,
    oppositeKnown,
    pairs,
    stylePairs,
    positive: [...new Set(pairs.map((p) => p.pos))],
    negative: [...new Set(pairs.map((p) => p.neg))],
  };
}
