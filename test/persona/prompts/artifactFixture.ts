/** A valid trait artefact in the persona_vectors paper's shape, for parser tests. */
export function validArtifact(numQuestions = 40): { instruction: { pos: string; neg: string }[]; questions: string[]; eval_prompt: string } {
  return {
    instruction: [1, 2, 3, 4, 5].map((i) => ({ pos: `Look on the bright side, way ${i}.`, neg: `Expect the worst, way ${i}.` })),
    questions: Array.from({ length: numQuestions }, (_, i) => `Question number ${i + 1}?`),
    eval_prompt:
      'Is this optimistic?\n[QUESTION START]\n{question}\n[QUESTION END]\n[ANSWER START]\n{answer}\n[ANSWER END]\nReply REFUSAL or a number from 0 to 100.',
  };
}
