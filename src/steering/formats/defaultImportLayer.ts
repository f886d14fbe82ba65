/**
 * The layer an imported vector steers at by default when its file carries no layer choice (a
 * persona_vectors `.pt`/safetensors, a llama.cpp / repeng GGUF): the middle block, ⌊L/2⌋, where
 * persona_vectors steers (their Qwen2.5-7B runs use hidden_states 20 of 28), or, when the file has no
 * vector there, the non-zero block nearest to it (the lower one on a tie). Never the largest-norm
 * layer: norms grow with depth, so that rule picks a late block, which steers worst.
 *
 * @example
 * const { layer, rule } = defaultImportLayer(vectors); // layer 18 for 36 blocks
 * console.log(`default layer ${layer} (${rule})`);
 */
export function defaultImportLayer(vectors: Float32Array[]): { layer: number; rule: string } {
  const L = vectors.length;
  const middle = Math.floor(L / 2);
  const nonZero = (l: number) => l >= 0 && l < L && vectors[l].some((x) => x !== 0);
  if (nonZero(middle)) return { layer: middle, rule: `the middle block of ${L}; the file names no layer: persona import --check measures one` };
  for (let d = 1; d < L; d++) {
    for (const l of [middle - d, middle + d]) {
      if (nonZero(l))
        return {
          layer: l,
          rule: `the non-zero block nearest the middle (${middle}) of ${L}; the file names no layer: persona import --check measures one`,
        };
    }
  }
  return { layer: middle, rule: `the middle block of ${L}; every vector in the file is zero` };
}
