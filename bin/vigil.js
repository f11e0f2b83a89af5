#!/usr/bin/env node
// The `vigil` command: runs the compiled CLI (built by `npm install` through the prepare script).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('vigil: not built yet; run `npm install` (or `npm run build`) first');
    process.exit(1);
  }
  throw err;
});
