// ESLint flat config (the package is ESM). TypeScript: typescript-eslint's recommendedTypeChecked on
// everything tsconfig.json includes (src, test, bench, scripts); the JavaScript config and bench
// files: @eslint/js recommended. eslint-config-prettier comes last: formatting is Prettier's job.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The rules about values typed `any` flowing through the code (errors in src/, bench/, scripts/). */
const UNSAFE_RULES = [
  '@typescript-eslint/no-unsafe-argument',
  '@typescript-eslint/no-unsafe-assignment',
  '@typescript-eslint/no-unsafe-call',
  '@typescript-eslint/no-unsafe-declaration-merging',
  '@typescript-eslint/no-unsafe-enum-assignment',
  '@typescript-eslint/no-unsafe-enum-comparison',
  '@typescript-eslint/no-unsafe-function-type',
  '@typescript-eslint/no-unsafe-member-access',
  '@typescript-eslint/no-unsafe-return',
  '@typescript-eslint/no-unsafe-unary-minus',
];
const rulesAt = (level) => Object.fromEntries([['@typescript-eslint/no-explicit-any', level], ...UNSAFE_RULES.map((rule) => [rule, level])]);

export default defineConfig(
  globalIgnores(['node_modules/', 'dist/', 'data/', 'coverage/', '.test-dist*/', '.bench-dist/', 'bench/results/', 'test/fixtures/']),

  // Plain JavaScript: this file, jest.config.js, bench/*.mjs (Node ES modules, not type-checked).
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },

  // TypeScript, type-checked through the project's tsconfig.json.
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...rulesAt('error'),
      // An underscore marks what is unused on purpose: a rest sibling that leaves a field out, an
      // argument that a signature requires.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Off: `async` without `await` is deliberate here. It makes a synchronous throw a rejection
      // (the SQLite queue's units run synchronous driver calls; a unit that throws must reject its
      // own promise, not the queue), and keeps methods of promise-returning interfaces (close(),
      // a migration's down(), a route handler) async like their siblings. Dropping `async` would
      // change when their errors surface.
      '@typescript-eslint/require-await': 'off',
      // Off (as in recommendedTypeChecked, which has neither): the two no-unsafe-* rules that are
      // not about `any`. no-unsafe-type-assertion refuses every narrowing `as` (72 today: `error as
      // Error`, JSON.parse() of a file this code wrote, `event.data as LeadQualified['data']` in a
      // processor subscribed to that type alone); each would need a runtime validator.
      // no-unsafe-class-instance-assignment refuses object literals where a class is the type, and
      // the API's DTOs are classes (Swagger reads their decorators) that handlers answer with literals.
      '@typescript-eslint/no-unsafe-type-assertion': 'off',
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },

  // Tests (test/, and the unit specs beside the code in src/): their bodies are frozen, only their
  // imports may change, so every rule whose fix would rewrite test code is off here, each for the
  // reason it fires:
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    rules: {
      // HTTP response bodies, rows of ad-hoc SQL and the data of events read back are untyped JSON
      // that assertions read field by field; typing each would rewrite the assertions.
      ...rulesAt('off'),
      // Spec helpers and fixtures are taken apart (`const { given } = spec`, `drop = testDb.drop`):
      // they do not use `this`, and Jest passes methods around the same way.
      '@typescript-eslint/unbound-method': 'off',
      // Assertions the types have since made unnecessary (`options as any`, `child.stdout!`).
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Failure messages interpolate whatever they have (URLSearchParams, an error's cause).
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // `() => Promise<unknown> | unknown`: a helper's signature that spells out both cases.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // Helpers rethrow with the context a failing test needs in its message, not as a cause.
      'preserve-caught-error': 'off',
      // Hostile input sends 1e309 on purpose (JSON's Infinity).
      'no-loss-of-precision': 'off',
      // The CSV parser of a suite is written with comma expressions.
      '@typescript-eslint/no-unused-expressions': 'off',
      // Two suites keep an unused fixture constant (allThree).
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },

  prettier,
);
