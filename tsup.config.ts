import { defineConfig } from 'tsup';

const external = ['rxjs', 'ws', /^@angular\//];

export default defineConfig([
  {
    // The library: `rxconn` and the optional `rxconn/angular` entry. Splitting (also for CJS) puts
    // the core in one shared chunk, so both entries share one `Connection` and one set of error
    // classes (`instanceof` works across them).
    entry: { index: 'lib/index.ts', angular: 'lib/angular/index.ts', 'angular-http': 'lib/angular/http.ts' },
    format: ['esm', 'cjs'],
    splitting: true,
    dts: true,
    sourcemap: true,
    // The CLI and the browser build below are built in parallel into the same folder: do not clean their files away.
    clean: ['!cli.js', '!cli.js.map', '!browser/**'],
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
  {
    // The browser build (package.json "browser" and "default" conditions): fetch and the native
    // WebSocket, ESM only. `ws` is not external here: were anything to import it (or a `node:`
    // module), the bundle would break, and spec/browser-bundle.spec.ts says so.
    entry: { index: 'lib/browser/index.ts', angular: 'lib/browser/angular.ts', 'angular-http': 'lib/browser/angular-http.ts' },
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    splitting: true,
    dts: { compilerOptions: { lib: ['ES2022', 'DOM', 'DOM.Iterable'] } },
    sourcemap: true,
    clean: true,
    target: 'es2022',
    external: ['rxjs', /^@angular\//],
  },
]);
