/**
 * The questions an evaluation asks. Steering is measured on requests the model would get anyway, held
 * out from the prompts that made the vector. A model folder that ships `style_markers.json` (the
 * embedded stylist) is asked requests of its own eight kinds — the question bank is outside its
 * training distribution and it answers those poorly whatever the steering; any other model is asked
 * the built-in `QUESTION_BANK`, in a seeded order.
 */
import { isPersonaVectorsArtifact, readPersonaVectorsArtifact } from '../../persona/prompts/personaVectorsArtifact.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { QUESTION_BANK } from '../../persona/prompts/questionBank.js';
import { readPromptFile } from '../../persona/prompts/readPromptFile.js';
import { seededShuffle } from '../../util/random.js';
import { readJsonFileIfValid } from '../../util/readJsonFile.js';

/**
 * 64 held-out requests for the stylist, 8 of each of its kinds (apologise, invite, explain, thank,
 * decline, describe a place, advise, answer a complaint), phrased as its corpus phrases them. None is
 * among the 64 requests its shipped personas were computed from (`data/stylist/*.jsonl`). Ordered
 * round-robin over the kinds, so any prefix of 8k requests holds k of each kind.
 *
 * @example STYLIST_REQUESTS.slice(0, 8) // one request of each kind
 */
export const STYLIST_REQUESTS: readonly string[] = Object.freeze(
  roundRobin([
    [
      'Please write an apology to Taylor about the late payment.',
      'Say sorry to Morgan about the broken vase.',
      'I need a sorry note for Quinn about the muddy carpet.',
      'Please write an apology to Avery about the lost package.',
      'Say sorry to Parker about the forgotten birthday.',
      'I need a sorry note for Logan about the missed meeting.',
      'Please write an apology to Skyler about the noisy renovation.',
      'Say sorry to Drew about the crashed website.',
    ],
    [
      'Invite Morgan to a dinner party.',
      'Write an invitation for Taylor to a museum visit.',
      'Could you invite Avery to a garden picnic?',
      'Ask Emerson to come to a pottery class.',
      'Invite Skyler to a birthday lunch.',
      'Write an invitation for Drew to a cooking workshop.',
      'Could you invite Robin to a museum visit?',
      'Ask Jamie to come to a dinner party.',
    ],
    [
      'Explain how tides work.',
      'Can you tell me how echoes work?',
      'What should I know about how bees make honey?',
      'Explain how a battery stores energy.',
      'Tell me about how tides work.',
      'Can you tell me why leaves change colour?',
      'What should I know about compound interest?',
      'Describe how echoes work briefly.',
    ],
    [
      'Write a thank-you note to Morgan for lending me a ladder.',
      'Say thanks to Quinn for watering my plants.',
      'Write a thank-you note to Avery for walking my dog.',
      'Say thanks to Taylor for reviewing my report.',
      'Write a thank-you note to Emerson for fixing my laptop.',
      'Say thanks to Skyler for walking my dog.',
      'Write a thank-you note to Drew for watering my plants.',
      'Say thanks to Parker for lending me a ladder.',
    ],
    [
      "Decline Morgan's invitation to a film screening.",
      'Write a polite no to Quinn about a garden picnic.',
      "Tell Avery I can't make it to a birthday lunch.",
      "Decline Taylor's invitation to a pottery class.",
      'Write a polite no to Emerson about a dinner party.',
      "Tell Skyler I can't make it to a cooking workshop.",
      "Decline Drew's invitation to a museum visit.",
      'Write a polite no to Parker about a film screening.',
    ],
    [
      'Describe a quiet library.',
      'What is an old lighthouse like?',
      'Write a short description of a busy market.',
      'Describe a train station at night.',
      'What is a snowy forest like?',
      'Write a short description of a rooftop garden.',
      'Describe a crowded stadium.',
      'What is a city park at dawn like?',
    ],
    [
      'Help me with a leaking tap.',
      'Help me with a slow computer.',
      'Help me with a tight budget.',
      'What should I do about a messy inbox?',
      'Help me with a stubborn stain.',
      'Help me with a missed deadline.',
      'What should I do about a leaking tap?',
      'What should I do about a slow computer?',
    ],
    [
      "Respond to Morgan's complaint about the late delivery.",
      "Respond to Drew's complaint about the broken vase.",
      'Sam is upset about the lost package. What do I say?',
      'A customer named Avery complained about the crashed website. Reply to them.',
      "Respond to Parker's complaint about the missed meeting.",
      'Emerson is upset about the noisy renovation. What do I say?',
      'A customer named Quinn complained about the late payment. Reply to them.',
      "Respond to Skyler's complaint about the muddy carpet.",
    ],
  ]),
);

/**
 * 64 more stylist requests of the same eight kinds, disjoint from {@link STYLIST_REQUESTS}: the
 * contrastive prompts of the layer analysis (separation of positive and negative answers, and the
 * vector made from a `--personality` description), so they never share a request with the steering
 * sweep. Round-robin over the kinds like the held-out set.
 *
 * @example STYLIST_EXTRACTION_REQUESTS.length // 64
 */
export const STYLIST_EXTRACTION_REQUESTS: readonly string[] = Object.freeze(
  roundRobin([
    ['Jamie', 'Robin', 'Charlie', 'Alex', 'Casey', 'Hayden', 'Jordan', 'Reese'].map(
      (n, i) =>
        `${['Say sorry to', 'Please write an apology to'][i % 2]} ${n} about the ${['late delivery', 'broken vase', 'lost package', 'missed meeting'][i % 4]}.`,
    ),
    ['Jamie', 'Robin', 'Charlie', 'Alex', 'Casey', 'Hayden', 'Jordan', 'Reese'].map(
      (n, i) =>
        `${['Invite', 'Ask'][i % 2]} ${n} ${['to a garden picnic', 'to come to a cooking workshop', 'to a pottery class', 'to come to a birthday lunch'][i % 4]}.`,
    ),
    [
      'Explain how echoes work.',
      'Can you tell me how tides work?',
      'Explain how bees make honey.',
      'What should I know about how a battery stores energy?',
      'Tell me about why leaves change colour.',
      'Explain compound interest.',
      'Can you tell me how a bicycle stays upright?',
      'Describe how tides work briefly.',
    ],
    ['Jamie', 'Robin', 'Charlie', 'Alex', 'Casey', 'Hayden', 'Jordan', 'Reese'].map(
      (n, i) =>
        `${['Say thanks to', 'Write a thank-you note to'][i % 2]} ${n} for ${['watering my plants', 'reviewing my report', 'lending me a ladder', 'walking my dog'][i % 4]}.`,
    ),
    ['Jamie', 'Robin', 'Charlie', 'Alex', 'Casey', 'Hayden', 'Jordan', 'Reese'].map((n, i) =>
      i % 2
        ? `Decline ${n}'s invitation to a ${['dinner party', 'cooking workshop', 'film screening', 'garden picnic'][i % 4]}.`
        : `Write a polite no to ${n} about a ${['museum visit', 'birthday lunch', 'pottery class', 'dinner party'][i % 4]}.`,
    ),
    [
      'Describe an old lighthouse.',
      'What is a crowded stadium like?',
      'Write a short description of a quiet library.',
      'Describe a snowy forest.',
      'What is a busy market like?',
      'Write a short description of a train station at night.',
      'Describe a rooftop garden.',
      'Write a short description of a riverside cafe.',
    ],
    [
      'Any advice for dealing with a noisy renovation?',
      'Help me with a messy inbox.',
      'What should I do about a tight budget?',
      'Any advice for dealing with a stubborn stain?',
      'What should I do about a missed deadline?',
      'Any advice for dealing with a slow computer?',
      'What should I do about a stubborn stain?',
      'Any advice for dealing with a leaking tap?',
    ],
    ['Jamie', 'Robin', 'Charlie', 'Alex', 'Casey', 'Hayden', 'Jordan', 'Reese'].map((n, i) =>
      i % 2
        ? `${n} is upset about the ${['late delivery', 'crashed website', 'broken vase', 'forgotten birthday'][i % 4]}. What do I say?`
        : `Respond to ${n}'s complaint about the ${['lost package', 'late payment', 'noisy renovation', 'missed meeting'][i % 4]}.`,
    ),
  ]),
);

function roundRobin(kinds: string[][]): string[] {
  const out: string[] = [];
  const n = Math.max(...kinds.map((k) => k.length));
  for (let i = 0; i < n; i++) for (const k of kinds) if (i < k.length) out.push(k[i]);
  return out;
}

/**
 * The questions for a model: held-out ones for the steering sweep and others for contrastive prompts.
 *
 * @example const { evaluation, extraction }: QuestionSet = defaultQuestionSet(model.dir, 32);
 */
export interface QuestionSet {
  /** `stylist` or `question-bank`, or `file` for questions read from a file. */
  name: string;
  /** Held-out questions the steered model answers. */
  evaluation: string[];
  /** Other questions for contrastive prompts (separation, a vector from a description). */
  extraction: string[];
}

/**
 * True for a model folder that ships the stylist's marker file (`style_markers.json`): the embedded
 * stylist, or a model trained on the same corpus.
 *
 * @example isStylistLike(model.dir) // true for the embedded default model
 */
export function isStylistLike(modelDir: string): boolean {
  return existsSync(path.join(modelDir, 'style_markers.json'));
}

/**
 * The default questions of a model: the stylist's own request kinds for a stylist-like folder
 * ({@link STYLIST_REQUESTS} to evaluate, {@link STYLIST_EXTRACTION_REQUESTS} for contrastive prompts),
 * otherwise the question bank shuffled with `seed` and split into `numQuestions` to evaluate and the
 * rest for contrastive prompts.
 *
 * @example const qs = defaultQuestionSet(model.dir, 32); // qs.evaluation.length === 32
 */
export function defaultQuestionSet(modelDir: string, numQuestions: number, seed = 0): QuestionSet {
  checkCount(numQuestions);
  if (isStylistLike(modelDir)) {
    if (numQuestions > STYLIST_REQUESTS.length)
      throw new InvalidArgumentError(
        `The stylist's held-out set has ${STYLIST_REQUESTS.length} requests; ask for at most that many (--num-questions), or give a --questions file.`,
      );
    return { name: 'stylist', evaluation: STYLIST_REQUESTS.slice(0, numQuestions), extraction: [...STYLIST_EXTRACTION_REQUESTS] };
  }
  const bank = seededShuffle(QUESTION_BANK, seed);
  if (numQuestions > bank.length - 8)
    throw new InvalidArgumentError(
      `The question bank has ${bank.length} questions; ask for at most ${bank.length - 8} (--num-questions), or give a --questions file.`,
    );
  return { name: 'question-bank', evaluation: bank.slice(0, numQuestions), extraction: bank.slice(numQuestions) };
}

/**
 * Reads evaluation questions from a prompt file (one per line, or JSONL with `user`), keeping the
 * first `numQuestions` when given. Questions are asked with no system prompt, so a line that carries
 * one is an error. Contrastive prompts come from the model's default set.
 *
 * @example const qs = await readQuestionSet('my-questions.txt', model.dir);
 */
export async function readQuestionSet(file: string, modelDir: string, numQuestions?: number): Promise<QuestionSet> {
  // A persona_vectors trait file (trait_data_eval/X.json): its questions are the evaluation questions.
  const prompts = (await isArtifactFile(file))
    ? (await readPersonaVectorsArtifact(file)).questions.map((user) => ({ user, system: undefined }))
    : await readPromptFile(file);
  if (prompts.some((p) => p.system))
    throw new InvalidArgumentError(`${file}: evaluation questions are asked without a system prompt (steering is what changes); remove the "system" fields.`);
  if (numQuestions !== undefined) checkCount(numQuestions);
  const evaluation = prompts.map((p) => p.user).slice(0, numQuestions ?? prompts.length);
  const fallback = defaultQuestionSet(modelDir, 1);
  const asked = new Set(evaluation);
  return { name: 'file', evaluation, extraction: fallback.extraction.filter((q) => !asked.has(q)) };
}

async function isArtifactFile(file: string): Promise<boolean> {
  if (!/\.json$/i.test(file)) return false;
  return isPersonaVectorsArtifact(await readJsonFileIfValid(file));
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`The number of questions must be an integer ≥ 1; got ${n}.`);
}
