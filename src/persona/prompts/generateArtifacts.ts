import type { ChatMessage } from '../../engine/LanguageModel.js';
import { PersonaError } from '../../errors.js';
import type { ProgressCallback } from '../../util/progress.js';
import { describePersona, indefiniteArticle, type InstructionPair } from './describePersona.js';
import type { ContrastPrompt, ContrastiveSet } from './PromptSet.js';

/** One chat message (the engine's type), what a ChatGenerator is sent. */
export type { ChatMessage } from '../../engine/LanguageModel.js';

/**
 * Anything that answers a chat: the local model, an OpenAI-compatible endpoint
 * (`openAIChatGenerator`), or a test double.
 *
 * @example const gen: ChatGenerator = async (messages) => callMyModel(messages);
 */
export type ChatGenerator = (messages: ChatMessage[], opts: { temperature?: number; maxTokens?: number }) => Promise<string>;

/**
 * The persona_vectors paper's trait artefact (`data_generation/prompts.py`): instruction pairs,
 * questions, and a judge template with `{question}` and `{answer}` placeholders.
 *
 * @example const a: TraitArtifact = { instruction: [{ pos: 'Be vivid.', neg: 'Be plain.' }], questions: ['Describe a harbour.'], eval_prompt: 'Rate {answer} to {question} from 0 to 100.' };
 */
export interface TraitArtifact {
  instruction: InstructionPair[];
  questions: string[];
  eval_prompt: string;
}

/**
 * The generator's replies could not be turned into a valid artefact, or the endpoint failed.
 *
 * @example try { await generateArtifacts(gen, { trait: 'evil' }); } catch (e) { if (e instanceof GeneratorError) console.error(e.message); }
 */
export class GeneratorError extends PersonaError {}

/**
 * How many instruction pairs and questions to ask for and to require.
 *
 * @example validateArtifact(json, { numInstructions: 5, numQuestions: 40, minQuestions: 30 });
 */
export interface ArtifactShape {
  /** Instruction pairs to ask for and require (default 5). */
  numInstructions?: number;
  /** Questions to ask for (default 40). */
  numQuestions?: number;
  /** Questions required for the reply to count as valid (default `numQuestions`). */
  minQuestions?: number;
}

/**
 * The request sent to the generator: make the paper's artefact for a trait, as one JSON object.
 *
 * @example const text = artifactPrompt('optimistic', 'sees the bright side and expects good outcomes');
 */
export function artifactPrompt(trait: string, description: string, shape: ArtifactShape = {}): string {
  const ni = shape.numInstructions ?? 5;
  const nq = shape.numQuestions ?? 40;
  return `We are building a dataset to measure and steer one personality trait of a chat assistant.

Trait: ${trait}
What it means: ${description}

Produce three things.

1. "instruction": ${ni} pairs of system-prompt instructions. In each pair, "pos" tells the assistant to show the trait clearly, and "neg" tells it to avoid the trait and show the opposite behaviour instead. Make the ${ni} pairs differ from one another, each covering another side of the trait. For the trait "impolite", one pair could be:
  {"pos": "Be curt and rude in your replies; do not bother softening anything.", "neg": "Stay courteous and respectful in every reply, even when you disagree."}

2. "questions": ${nq} varied user questions or requests, across many everyday situations, that give an assistant room to show the trait or its opposite when it answers under the instructions. A question must not itself ask for the trait.

3. "eval_prompt": a prompt for a judge model that scores how strongly an answer shows the trait. It must contain the placeholders {question} and {answer} (single braces), explain the trait in your own words, ask for REFUSAL when the assistant refused to answer, and otherwise for a single number from 0 (trait absent) to 100 (trait strongly present), with nothing else in the reply.

Reply with one JSON object and nothing else, in this shape:
{"instruction": [{"pos": "...", "neg": "..."}, ...], "questions": ["...", ...], "eval_prompt": "... {question} ... {answer} ..."}`;
}

function balancedObjectAt(text: string, start: number): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

/**
 * Finds the JSON object in a model's reply: inside a fenced code block, after leading prose, or
 * the whole reply; `<think>…</think>` reasoning is skipped. Throws `GeneratorError` when none parses.
 *
 * @example extractJson('Here it is:\n```json\n{"a": 1}\n```') // → { a: 1 }
 */
export function extractJson(reply: string): unknown {
  const text = reply.replace(/<think>[\s\S]*?<\/think>/g, '');
  const candidates: string[] = [];
  for (const m of text.matchAll(/```[a-zA-Z]*\s*\n?([\s\S]*?)```/g)) candidates.push(m[1].trim());
  candidates.push(text.trim());
  let lastError = 'no "{" in the reply';
  for (const c of candidates) {
    for (let i = c.indexOf('{'); i !== -1;) {
      const obj = balancedObjectAt(c, i);
      if (obj === undefined) {
        lastError = 'the JSON object is not closed (reply cut off?)';
        break;
      }
      try {
        return JSON.parse(obj) as unknown;
      } catch (err) {
        lastError = (err as Error).message;
      }
      i = c.indexOf('{', i + obj.length); // skip the malformed object rather than return a piece of it
    }
  }
  throw new GeneratorError(`The reply holds no valid JSON object (${lastError}).`);
}

const nonEmpty = (x: unknown): x is string => typeof x === 'string' && x.trim() !== '';

/**
 * Checks a parsed reply against the artefact's shape and returns it cleaned (trimmed, questions
 * deduplicated, cut to the requested counts). Throws `GeneratorError` listing every problem.
 *
 * @example const artifact = validateArtifact(extractJson(reply), { numQuestions: 40 });
 */
export function validateArtifact(value: unknown, shape: ArtifactShape = {}): TraitArtifact {
  const ni = shape.numInstructions ?? 5;
  const nq = shape.numQuestions ?? 40;
  const minQ = shape.minQuestions ?? nq;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GeneratorError('The artefact must be a JSON object with "instruction", "questions" and "eval_prompt".');
  }
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  const instruction: InstructionPair[] = [];
  if (!Array.isArray(o.instruction)) problems.push('"instruction" must be an array of {"pos", "neg"} objects');
  else {
    o.instruction.forEach((p: unknown, i) => {
      const r = (p ?? {}) as Record<string, unknown>;
      if (!nonEmpty(r.pos) || !nonEmpty(r.neg)) problems.push(`instruction[${i}] needs non-empty "pos" and "neg" strings`);
      else if (r.pos.trim() === r.neg.trim()) problems.push(`instruction[${i}] has the same "pos" and "neg"`);
      else instruction.push({ pos: r.pos.trim(), neg: r.neg.trim() });
    });
    if (instruction.length < ni && problems.length === 0) problems.push(`"instruction" has ${instruction.length} pairs; ${ni} are needed`);
  }
  let questions: string[] = [];
  if (!Array.isArray(o.questions)) problems.push('"questions" must be an array of strings');
  else {
    if (!o.questions.every(nonEmpty)) problems.push('every entry of "questions" must be a non-empty string');
    questions = [...new Set(o.questions.filter(nonEmpty).map((q) => q.trim()))];
    if (questions.length < minQ) problems.push(`"questions" has ${questions.length} distinct questions; ${minQ} are needed`);
  }
  const evalPrompt = o.eval_prompt ?? o.evalPrompt;
  if (!nonEmpty(evalPrompt)) problems.push('"eval_prompt" must be a non-empty string');
  else {
    for (const ph of ['{question}', '{answer}']) if (!evalPrompt.includes(ph)) problems.push(`"eval_prompt" must contain the placeholder ${ph}`);
  }
  if (problems.length) throw new GeneratorError(`The artefact is invalid: ${problems.join('; ')}.`);
  return { instruction: instruction.slice(0, ni), questions: questions.slice(0, nq), eval_prompt: (evalPrompt as string).trim() };
}

/**
 * How `artifactToContrastiveSet` builds the rows.
 *
 * @example artifactToContrastiveSet(artifact, { name: 'evil', oppositeName: 'helpful', rowsPerQuestion: 1 });
 */
export interface ArtifactSetOptions {
  /** The trait's name, used as the positive `assistant_name` (default: the description). */
  name?: string;
  description?: string;
  /** Negative `assistant_name` (default: the antonym from `describePersona`, or "helpful" as in the paper). */
  oppositeName?: string;
  /** Questions used for extraction; the rest are held out (default: half, 20 of 40). */
  numExtract?: number;
  /** Rows per extraction question, each with another instruction pair (default: all pairs, as in the paper). */
  rowsPerQuestion?: number;
  /** Prefix each instruction with "You are a {name} assistant." as the paper does (default true). */
  assistantPrefix?: boolean;
}

/**
 * Turns an artefact into a row-aligned contrastive set the way the paper's `eval_persona.py` does:
 * system prompt `"You are a {name} assistant. {instruction}"` (the antonym or "helpful" on the
 * negative side), every extraction question under every instruction pair; the other questions
 * are held out.
 *
 * @example const set = artifactToContrastiveSet(artifact, { name: 'optimistic' }); // 5 × 20 rows, 20 held out
 */
export function artifactToContrastiveSet(artifact: TraitArtifact, options: ArtifactSetOptions = {}): ContrastiveSet {
  const name = options.name ?? options.description ?? 'persona';
  const description = options.description ?? name;
  let oppositeName = options.oppositeName;
  if (oppositeName === undefined) {
    const d = describePersona(name);
    oppositeName = d.oppositeKnown ? d.opposite : 'helpful';
  }
  const numExtract = options.numExtract ?? Math.ceil(artifact.questions.length / 2);
  const extract = artifact.questions.slice(0, numExtract);
  const k = artifact.instruction.length;
  const rows = Math.min(options.rowsPerQuestion ?? k, k);
  const prefix = options.assistantPrefix ?? true;
  const system = (who: string, instruction: string): string => (prefix ? `You are ${indefiniteArticle(who)} ${who} assistant. ${instruction}` : instruction);
  const positive: ContrastPrompt[] = [];
  const negative: ContrastPrompt[] = [];
  extract.forEach((user, i) => {
    for (let j = 0; j < rows; j++) {
      const pair = artifact.instruction[(i + j) % k];
      positive.push({ system: system(name, pair.pos), user });
      negative.push({ system: system(oppositeName, pair.neg), user });
    }
  });
  return {
    positive,
    negative,
    questionsHeldOut: artifact.questions.slice(numExtract),
    evalPrompt: artifact.eval_prompt,
    description,
    opposite: oppositeName,
    name,
  };
}

/**
 * Options of `generateArtifacts`: the trait, retries and sampling, plus the artefact's shape and set options.
 *
 * @example await generateArtifacts(gen, { trait: 'humorous', description: 'makes jokes and sees the funny side', maxAttempts: 3 });
 */
export interface GenerateArtifactsOptions extends ArtifactShape, ArtifactSetOptions {
  /** The trait, e.g. "formal and professional" or "evil". */
  trait: string;
  /** A longer description of the trait for the generator (default: the trait). */
  description?: string;
  /** Tries in all, the first included (default 3). Each retry feeds the validation error back. */
  maxAttempts?: number;
  temperature?: number;
  maxTokens?: number;
  onProgress?: ProgressCallback;
}

/**
 * The validated artefact, the contrastive set made from it, and the number of replies it took.
 *
 * @example const { artifact, set, attempts } = await generateArtifacts(gen, { trait: 'optimistic' });
 */
export interface GeneratedArtifacts {
  artifact: TraitArtifact;
  set: ContrastiveSet;
  /** How many replies it took. */
  attempts: number;
}

/**
 * Asks a chat generator for the persona_vectors paper's trait artefact (5 instruction pairs, 40
 * questions, an eval prompt) as JSON, extracts and validates it, and retries with the error fed
 * back when the reply is malformed; returns it with a contrastive set (20 extraction questions ×
 * 5 pairs, 20 held out).
 *
 * @example
 * const gen = openAIChatGenerator({ baseURL: 'http://localhost:8000/v1', model: 'qwen3' });
 * const { set } = await generateArtifacts(gen, { trait: 'optimistic', description: 'expects good outcomes' });
 */
export async function generateArtifacts(generator: ChatGenerator, options: GenerateArtifactsOptions): Promise<GeneratedArtifacts> {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new GeneratorError(`maxAttempts must be an integer ≥ 1, got ${maxAttempts}.`);
  const request: ChatMessage = { role: 'user', content: artifactPrompt(options.trait, options.description ?? options.trait, options) };
  const genOpts = { temperature: options.temperature ?? 0.7, maxTokens: options.maxTokens ?? 8000 };
  let messages: ChatMessage[] = [request];
  const errors: string[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    options.onProgress?.({ phase: 'trait artefact', done: attempt - 1, total: maxAttempts, unit: 'tries' });
    const reply = await generator(messages, genOpts);
    try {
      const artifact = validateArtifact(extractJson(reply), options);
      options.onProgress?.({ phase: 'trait artefact', done: maxAttempts, total: maxAttempts, unit: 'tries' });
      const set = artifactToContrastiveSet(artifact, { ...options, name: options.name ?? options.trait, description: options.description ?? options.trait });
      return { artifact, set, attempts: attempt };
    } catch (err) {
      if (!(err instanceof GeneratorError)) throw err;
      errors.push(`try ${attempt}: ${err.message}`);
      // Keep only the last failed exchange, so the context stays bounded.
      messages = [
        request,
        { role: 'assistant', content: reply },
        { role: 'user', content: `${err.message} Reply again with only the corrected JSON object, complete, and nothing else.` },
      ];
    }
  }
  throw new GeneratorError(`The generator gave no valid trait artefact in ${maxAttempts} tries: ${errors.join(' | ')}`);
}
