import { defineConfig } from 'tsup';

const external = ['rxjs', 'ws', 'http2-wrapper', /^@angular\//];

export default defineConfig([
  {
    // The library: `rxconn` and the optional `rxconn/angular` entry. Splitting (also for CJS) puts
    // the core in one shared chunk, so both entries share one `Connection` and one set of error
    // classes (`instanceof` works across them).
    entry: { index: 'lib/index.ts', angular: 'lib/angular/index.ts' },
    format: ['esm', 'cjs'],
    splitting: true,
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    external,
  },
]);
