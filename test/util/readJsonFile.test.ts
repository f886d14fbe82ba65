import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFileError, PersonaError } from '../../src/errors.js';
import { readJsonFile, readJsonFileIfValid, readTextFile } from '../../src/util/readJsonFile.js';

describe('readJsonFile', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'read-json-'));
  const good = path.join(dir, 'good.json');
  const bad = path.join(dir, 'bad.json');
  const folder = path.join(dir, 'folder.json');
  writeFileSync(good, '{"a": 1}');
  writeFileSync(bad, '{"a": ');
  mkdirSync(folder);

  it('parses a JSON file', async () => {
    expect(await readJsonFile(good)).toEqual({ a: 1 });
  });

  it('names the file in an error of the class asked for: missing, a folder, not JSON', async () => {
    const missing = path.join(dir, 'missing.json');
    await expect(readJsonFile(missing, { errorClass: ModelFileError })).rejects.toThrow(new ModelFileError(`Cannot read ${missing}: no such file.`));
    await expect(readJsonFile(folder)).rejects.toThrow(`${folder} is not a regular file.`);
    const err = await readJsonFile(bad, { errorClass: ModelFileError, hint: 'download it again.' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON \\(.+\\); download it again\\.$`));
    await expect(readJsonFile(bad)).rejects.toBeInstanceOf(PersonaError);
  });

  it('gives undefined for a missing file only when it is optional', async () => {
    const missing = path.join(dir, 'optional.json');
    expect(await readJsonFile(missing, { optional: true })).toBeUndefined();
    expect(await readTextFile(missing, { optional: true })).toBeUndefined();
    expect(await readTextFile(good, { optional: true })).toBe('{"a": 1}');
    await expect(readTextFile(folder, { optional: true })).rejects.toThrow(`${folder} is not a regular file.`);
    await expect(readJsonFile(bad, { optional: true })).rejects.toThrow(/is not valid JSON/);
  });

  it('gives undefined for a file that is missing or not JSON when asked only if valid', async () => {
    expect(await readJsonFileIfValid(good)).toEqual({ a: 1 });
    expect(await readJsonFileIfValid(bad)).toBeUndefined();
    expect(await readJsonFileIfValid(path.join(dir, 'none.json'))).toBeUndefined();
  });
});
