// Lint rules that guard the architecture: src/core stays pure so the browser and workers can share it.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'http', 'https', 'net', 'dgram', 'crypto', 'zlib', 'stream', 'worker_threads', 'process', 'url', 'util', 'readline', 'events'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'coverage/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {},
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nodeBuiltins, message: 'src/core is pure: no Node built-ins (take a port instead).' },
          { group: ['**/adapters/**', '**/server/**', '**/worker/**', '**/cli/**', '**/config', '**/config.js'], message: 'src/core must not import adapters, server, worker, cli or config.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'src/core is pure: no process/env access.' },
        { name: 'Buffer', message: 'src/core is pure: use Uint8Array/TextDecoder.' },
        { name: 'require', message: 'ESM only.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'src/core takes time from an injected Clock, not Date.now().' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/core takes time from an injected Clock, not new Date().' },
      ],
    },
  },
);
