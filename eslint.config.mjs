import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CONNECTOR_MODULES = {
  regex: '(^|/)connectors(/(?!types$).*)?$',
  message: 'core never imports a connector module: use the contract (functions/connectors/types.ts) and the registry handed in (Runtime.connectors); AWS utilities go in functions/aws/.',
};
const ANY_CONNECTOR = { regex: '(^|/)connectors(/.*)?$', message: 'functions/aws/ is below the connectors: it never imports one.' };
const HANDLERS = { regex: '(^|/)handlers(/.*)?$', message: 'handlers call core, never the other way round.' };
const OUTER_LAYERS = { regex: '^(\\.\\./)+(cli|local|infra|test)(/.*)?$', message: 'functions/ never imports the CLI, the local engine, the CDK construct or tests.' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'coverage/**', '.dsr/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers point one way: handlers → core → the connectors' contract. Core reaches stores only
  // through functions/connectors/types.ts and the registry a handler hands in (Runtime.connectors).
  {
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [CONNECTOR_MODULES, HANDLERS, OUTER_LAYERS] }],
    },
  },
  // AWS utilities (functions/aws/) serve core and connectors alike: they know neither.
  {
    files: ['functions/aws/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [ANY_CONNECTOR, HANDLERS, OUTER_LAYERS] }],
    },
  },
);
