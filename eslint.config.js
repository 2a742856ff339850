// typescript-eslint with type information (the project's tsconfig.json), over every TypeScript
// file we build. The rules are the ones the compiler cannot give: promises that nobody awaits,
// awaits of values that are not promises, and promises passed where a callback's result is
// ignored. A fire-and-forget that is meant is marked with `void`.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'docs/reference/**'] },
  {
    files: ['lib/**/*.ts', 'spec/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'docs/snippets/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/require-array-sort-compare': ['error', { ignoreStringArrays: true }],
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-implied-eval': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/restrict-plus-operands': 'error',
    },
  },
);
