import { loadModel, type LanguageModel } from '../../src/engine/LanguageModel.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { PERSONAS, STYLIST } from './paths.js';

let model: Promise<LanguageModel> | undefined;
/** The embedded stylist, loaded once per test file. */
export function stylist(): Promise<LanguageModel> {
  model ??= loadModel(STYLIST);
  return model;
}

export const shippedPersona = (name: string) => loadPersona(path.join(PERSONAS, `${name}.persona.json`));

const markers = JSON.parse(readFileSync(path.join(STYLIST, 'style_markers.json'), 'utf8')) as Record<string, string[]>;
const count = (text: string, list: string[]) => list.reduce((n, m) => n + text.split(m).length - 1, 0);

/** The stylist's own scoring rule (style_markers.json): formality in [-1, 1] and a vivid count. */
export function styleScore(answer: string): { formality: number; vivid: number } {
  const t = answer.toLowerCase();
  const f = count(t, markers.formal);
  const c = count(t, markers.casual);
  return { formality: (f - c) / Math.max(1, f + c), vivid: count(t, markers.vivid) };
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const NAMES = ['Reese', 'Sam', 'Priya', 'Leo', 'Nadia', 'Omar', 'Ana', 'Jo'];
const KINDS = [
  (n: string) => `Write a note thanking ${n} for the help.`,
  (n: string) => `Apologise to ${n} for being late.`,
  (n: string) => `Invite ${n} to dinner on Saturday.`,
  (n: string) => `Tell ${n} you cannot come to the meeting.`,
  (n: string) => `Explain to ${n} why the order is delayed.`,
  (n: string) => `Describe the old town square to ${n}.`,
  (n: string) => `Give ${n} advice about learning to cook.`,
  (n: string) => `Answer ${n}, who complains about a noisy room.`,
];
/** 64 held-out stylist requests (8 kinds × 8 names): neither in data/stylist (training) nor among the recommender's requests. */
export const STYLIST_HELD_OUT: readonly string[] = KINDS.flatMap((k) => NAMES.map(k));
