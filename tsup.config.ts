import { defineConfig } from 'tsup';

const external = ['rxjs', 'ws', /^@angular\//];

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
    // The CLI below is built in parallel into the same folder: do not clean its files away.
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    external,
  },
  {
    // The `rxconn` command (package.json "bin"): ESM only, the shebang kept from lib/cli/bin.ts.
    entry: { cli: 'lib/cli/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'node20',
    external,
  },
]);
