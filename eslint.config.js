import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bench/results/**', 'coverage/**', '.tmp/**'] },
  js.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through loadConfig() in src/shared/config.ts.',
        },
      ],
    },
  },
  {
    files: [
      'src/shared/config.ts',
      'test/**',
      'bench/**',
      'bin/**',
      'src/cli.ts',
      'src/**/main.ts',
      'src/simulator/config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  // Formatting is prettier's (npm run format); eslint keeps to correctness.
  prettier,
);
