/**
 * One name per kind of output across the commands: a file is `-o, --out FILE`, a folder
 * `--out-dir DIR`. The names used before (`--output`, `--output-dir`) still work, unlisted in the
 * help, with a deprecation note on stderr.
 */
export const RENAMED_FLAGS: Readonly<Record<string, string>> = { '--output': '--out', '--output-dir': '--out-dir' };

/**
 * The command-line arguments with each old flag name (`--output FILE` or `--output=FILE`) replaced by
 * its new one, and a note for each on stderr. Arguments after `--` are left as they are.
 *
 * @example renameDeprecatedFlags(['node', 'persona', 'create', '--output', 'x.persona.json']); // [..., '--out', 'x.persona.json']
 */
export function renameDeprecatedFlags(argv: readonly string[], warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === '--') break;
    const [flag, ...value] = out[i].split('=');
    const renamed = RENAMED_FLAGS[flag];
    if (!renamed) continue;
    warn(`note: ${flag} is deprecated; use ${renamed} (the same value).`);
    out[i] = [renamed, ...value].join('=');
  }
  return out;
}
