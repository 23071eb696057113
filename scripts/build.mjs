// Builds ESM (dist/esm) and CommonJS (dist/cjs) from the same sources with plain tsc.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const tsc = (project) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });
tsc('tsconfig.build.json');
tsc('tsconfig.cjs.json');
// Node reads .js under dist/cjs as CommonJS only with this marker, since the package itself is "type": "module".
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
