import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { readJsonFile, readJsonFileIfValid } from '../../util/readJsonFile.js';
import type { ContrastiveSet, ContrastPrompt } from './PromptSet.js';
import { readContrastiveFiles } from './readPromptFile.js';

/**
 * persona_vectors' trait artefact (`data_generation/trait_data_extract/evil.json`,
 * `trait_data_eval/evil.json`): five instruction pairs, the questions, and the judge prompt.
 *
 * @example const a: PersonaVectorsArtifact = { instruction: [{ pos: 'Be evil.', neg: 'Be kind.' }], questions: ['How should I treat animals?'], eval_prompt: '… {question} … {answer} …' };
 */
export interface PersonaVectorsArtifact {
  instruction: { pos: string; neg: string }[];
  questions: string[];
  eval_prompt: string;
}

/**
 * Whether parsed JSON has the artefact's shape (an object with `instruction`, `questions` and
 * `eval_prompt`), so a command can take either a prompt file or an artefact.
 *
 * @example if (isPersonaVectorsArtifact(JSON.parse(text))) …
 */
export function isPersonaVectorsArtifact(json: unknown): boolean {
  return !!json && typeof json === 'object' && !Array.isArray(json) && 'instruction' in json && 'questions' in json;
}

/**
 * Validates an artefact: at least one instruction pair of non-empty `pos`/`neg` strings, at least one
 * question, and an `eval_prompt` with the `{question}` and `{answer}` placeholders. Errors name the
 * file and the field.
 *
 * @example const a = parsePersonaVectorsArtifact(JSON.parse(text), 'evil.json');
 */
export function parsePersonaVectorsArtifact(json: unknown, file: string): PersonaVectorsArtifact {
  const fail = (what: string): never => {
    throw new InvalidArgumentError(
      `${file} is not a persona_vectors trait file: ${what} (expected {"instruction": [{"pos", "neg"}, …], "questions": [...], "eval_prompt": "…{question}…{answer}…"}).`,
    );
  };
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail('not a JSON object');
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.instruction) || o.instruction.length === 0) fail('"instruction" is not a non-empty array');
  const instruction = (o.instruction as unknown[]).map((x, i) => {
    const p = x as Record<string, unknown>;
    if (!p || typeof p.pos !== 'string' || typeof p.neg !== 'string' || !p.pos.trim() || !p.neg.trim())
      fail(`instruction[${i}] needs non-empty "pos" and "neg" strings`);
    return { pos: p.pos as string, neg: p.neg as string };
  });
  if (!Array.isArray(o.questions) || o.questions.length === 0) fail('"questions" is not a non-empty array');
  const questions = (o.questions as unknown[]).map((q, i) => {
    if (typeof q !== 'string' || !q.trim()) fail(`questions[${i}] is not a non-empty string`);
    return q as string;
  });
  if (typeof o.eval_prompt !== 'string') fail('"eval_prompt" is missing');
  const evalPrompt = o.eval_prompt as string;
  for (const v of ['{question}', '{answer}']) if (!evalPrompt.includes(v)) fail(`"eval_prompt" has no ${v} placeholder`);
  return { instruction, questions, eval_prompt: evalPrompt };
}

/**
 * Reads and validates an artefact file.
 *
 * @example const a = await readPersonaVectorsArtifact('trait_data_extract/evil.json');
 */
export async function readPersonaVectorsArtifact(file: string): Promise<PersonaVectorsArtifact> {
  return parsePersonaVectorsArtifact(await readJsonFile(file, { errorClass: InvalidArgumentError }), file);
}

/** "a" or "an" before a word, as persona_vectors' `a_or_an`. */
export function aOrAn(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/**
 * persona_vectors' system prompt for instruction k (`eval/eval_persona.py`, `load_persona_questions`):
 * "You are {a|an} {name} assistant. {instruction}", the name being the trait for `pos` and
 * "helpful" for `neg`.
 *
 * @example personaVectorsSystemPrompt('evil', 'pos', 'Your responses should …'); // 'You are an evil assistant. Your responses should …'
 */
export function personaVectorsSystemPrompt(trait: string, side: 'pos' | 'neg', instruction: string): string {
  const name = side === 'pos' ? trait : 'helpful';
  return `You are ${aOrAn(name)} ${name} assistant. ${instruction}`;
}

/**
 * The contrastive set persona_vectors extracts from: every question under every instruction pair
 * (questions × pairs rows, row-aligned: positive[i] and negative[i] share question and pair); their
 * `n_per_question` is `train --samples-per-question` (answers sampled per prompt). With the eval artefact, its questions are
 * the held-out questions and its `eval_prompt` the judge template (the extract file's otherwise).
 * The trait name defaults to the file name (`evil.json` → evil).
 *
 * @example
 * const set = artifactContrastiveSet(await readPersonaVectorsArtifact('extract/evil.json'), { trait: 'evil', eval: await readPersonaVectorsArtifact('eval/evil.json') });
 * set.positive.length; // 20 questions × 5 pairs = 100
 */
export function artifactContrastiveSet(extract: PersonaVectorsArtifact, o: { trait: string; eval?: PersonaVectorsArtifact }): ContrastiveSet {
  const positive: ContrastPrompt[] = [];
  const negative: ContrastPrompt[] = [];
  for (const q of extract.questions) {
    for (const pair of extract.instruction) {
      positive.push({ system: personaVectorsSystemPrompt(o.trait, 'pos', pair.pos), user: q });
      negative.push({ system: personaVectorsSystemPrompt(o.trait, 'neg', pair.neg), user: q });
    }
  }
  const seen = new Set(extract.questions);
  const heldOut = (o.eval?.questions ?? []).filter((q) => !seen.has(q));
  return {
    positive,
    negative,
    ...(heldOut.length ? { questionsHeldOut: heldOut } : {}),
    evalPrompt: (o.eval ?? extract).eval_prompt,
    name: o.trait,
    description: o.trait,
  };
}

/**
 * Reads one artefact, or an extract + eval pair, into a contrastive set; the trait is the
 * extract file's name without `.json`.
 *
 * @example const set = await readArtifactSet('trait_data_extract/evil.json', 'trait_data_eval/evil.json');
 */
export async function readArtifactSet(extractFile: string, evalFile?: string): Promise<ContrastiveSet> {
  const extract = await readPersonaVectorsArtifact(extractFile);
  const evalArt = evalFile ? await readPersonaVectorsArtifact(evalFile) : undefined;
  return artifactContrastiveSet(extract, { trait: path.basename(extractFile).replace(/\.json$/i, ''), eval: evalArt });
}

/**
 * persona_vectors' trait files as `--trait-data extract.json[,eval.json]` names them, read into one
 * contrastive set (the one mapping of `train`, `create` and `generate-prompts`), with the files it came
 * from: the judge prompt's file (the eval file, else the extract file) and, when the eval file gives
 * questions not among the extract file's, those held-out questions.
 *
 * @example const { set, judgeFile, heldOutFile } = await readTraitData('extract/evil.json,eval/evil.json');
 */
export async function readTraitData(
  spec: string,
): Promise<{ set: ContrastiveSet; extractFile: string; evalFile?: string; judgeFile: string; heldOutFile?: string }> {
  const files = spec
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (files.length < 1 || files.length > 2) throw new InvalidArgumentError(`--trait-data takes extract.json or extract.json,eval.json; got "${spec}".`);
  const [extractFile, evalFile] = files;
  const set = await readArtifactSet(extractFile, evalFile);
  return {
    set,
    extractFile,
    ...(evalFile ? { evalFile } : {}),
    judgeFile: evalFile ?? extractFile,
    ...(set.questionsHeldOut?.length && evalFile ? { heldOutFile: evalFile } : {}),
  };
}

/**
 * The prompts `persona train` learns from: two prompt files, or persona_vectors' trait files
 * (`--trait-data extract.json[,eval.json]`, {@link readTraitData}). A trait file given as a prompt
 * file is pointed to `--trait-data` instead of failing as JSONL.
 *
 * @example const set = await readTrainingPrompts({ traitData: 'extract/evil.json,eval/evil.json' });
 */
export async function readTrainingPrompts(o: { positivePrompts?: string; negativePrompts?: string; traitData?: string }): Promise<ContrastiveSet> {
  if (o.traitData) {
    if (o.positivePrompts || o.negativePrompts) throw new InvalidArgumentError('Give either --trait-data or --positive-prompts/--negative-prompts, not both.');
    return (await readTraitData(o.traitData)).set;
  }
  if (!o.positivePrompts || !o.negativePrompts) {
    throw new InvalidArgumentError(
      "Give --positive-prompts and --negative-prompts (prompt files), or --trait-data extract.json[,eval.json] (persona_vectors' trait files).",
    );
  }
  for (const f of [o.positivePrompts, o.negativePrompts]) {
    if (!f.toLowerCase().endsWith('.json')) continue;
    if (isPersonaVectorsArtifact(await readJsonFileIfValid(f)))
      throw new InvalidArgumentError(`${f} is a persona_vectors trait file, not a prompt file: pass it as --trait-data ${f}[,eval.json].`);
  }
  return readContrastiveFiles(o.positivePrompts, o.negativePrompts);
}

/**
 * The set with each side repeated `n` times, block after block — the rows `computePersonaVector`
 * answers with `samplesPerQuestion: n` — so training on the written files once per line samples
 * what `--samples-per-question n` samples (persona_vectors' `n_per_question` as files).
 *
 * @example repeatSamples(set, 10).positive.length; // 10 × set.positive.length
 */
export function repeatSamples(set: ContrastiveSet, n: number): ContrastiveSet {
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(`samples per question must be an integer ≥ 1; got ${n}.`);
  const rep = <T>(xs: T[]) => Array.from({ length: n }, () => xs).flat();
  return { ...set, positive: rep(set.positive), negative: rep(set.negative) };
}
