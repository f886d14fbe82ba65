import { z } from 'zod';

/** A persona name: letters, digits, `.`, `_`, `-`; starts with a letter or digit; no `..`; at most 64 characters. */
const PERSONA_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.)){0,63}$/;

/**
 * Why a string is not a persona name, or null when it is one.
 *
 * @example personaNameProblem('../formal'); // '"../formal" looks like a path; …'
 */
export function personaNameProblem(name: string): string | null {
  if (/[\\/]/.test(name) || name.includes('..'))
    return `"${name}" looks like a path; refer to a persona by its name in the server's personas folder (e.g. "formal").`;
  if (!PERSONA_NAME.test(name)) return `"${name}" is not a persona name: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit.`;
  return null;
}

/**
 * A zod schema for a persona name; never a path (the file is always `<personas dir>/<name>.persona.json`).
 *
 * @example personaNameSchema.parse('formal'); // 'formal'; '../etc' fails
 */
export const personaNameSchema = z.string().superRefine((name, ctx) => {
  const problem = personaNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
