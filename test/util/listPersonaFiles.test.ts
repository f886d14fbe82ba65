import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPersonaFiles } from '../../src/steering/locatePersona.js';
import { listPersonaFiles } from '../../src/util/listPersonaFiles.js';

describe('listPersonaFiles', () => {
  it('lists the .persona.json files of a folder by name, sorted; a missing folder has none', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'persona-list-'));
    for (const f of ['vivid.persona.json', 'formal.persona.json', 'notes.json', 'formal.persona.0123456789abcdef.safetensors'])
      writeFileSync(path.join(dir, f), '{}');
    expect(await listPersonaFiles(dir)).toEqual([
      { name: 'formal', file: path.join(dir, 'formal.persona.json') },
      { name: 'vivid', file: path.join(dir, 'vivid.persona.json') },
    ]);
    expect(await listPersonaFiles(path.join(dir, 'none'))).toEqual([]);
  });

  it('serves findPersonaFiles, where a name in an earlier folder wins', async () => {
    const a = mkdtempSync(path.join(os.tmpdir(), 'persona-list-a-'));
    const b = path.join(a, 'b');
    mkdirSync(b);
    writeFileSync(path.join(a, 'calm.persona.json'), '{}');
    writeFileSync(path.join(b, 'calm.persona.json'), '{}');
    writeFileSync(path.join(b, 'bold.persona.json'), '{}');
    expect(await findPersonaFiles([a, b])).toEqual([
      { name: 'calm', file: path.join(a, 'calm.persona.json') },
      { name: 'bold', file: path.join(b, 'bold.persona.json') },
    ]);
  });
});
