// ESLint (flat config): the recommended JavaScript and typescript-eslint rules over src/, test/,
// scripts/ and bin/. Formatting is prettier's (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'scratch/', 'models/', 'personas/', 'data/', 'results/', 'fuzz-failures/', 'test-output/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } } },
  { files: ['src/web/**/*.js'], languageOptions: { sourceType: 'module', globals: { ...globals.browser } } },
  {
    rules: {
      // `_name` marks a value left out on purpose (`const { vectors: _v, ...rest } = o`, unused callback arguments).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `cond && f()` and `c ? f() : g()` as statements are used in hot loops; sequences (`(a(), b())`) are not.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // A `let` assigned once after a closure that reads it (a server handler that needs the server) stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests read loosely typed JSON replies (OpenAI-style bodies, server events) without declaring them.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
