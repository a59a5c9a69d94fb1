// Lets Node (>= 23.6, type stripping) run the CLI straight from src/: `./x.js` imports resolve to `./x.ts`.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && (specifier.startsWith('.') || specifier.startsWith('/'))) {
    const url = new URL(specifier, context.parentURL);
    if (!existsSync(fileURLToPath(url))) {
      const ts = new URL(url.href.replace(/\.js$/, '.ts'));
      if (existsSync(fileURLToPath(ts))) return next(ts.href, context);
    }
  }
  return next(specifier, context);
}

/** JSON imports (`import { version } from '../../package.json'`, as the bundler allows) become ES modules. */
export async function load(url, context, next) {
  if (!url.endsWith('.json')) return next(url, context);
  const data = JSON.parse(readFileSync(fileURLToPath(url), 'utf8'));
  const named = Object.keys(data)
    .filter((key) => key !== 'default' && /^[A-Za-z_$][\w$]*$/.test(key))
    .map((key) => `export const ${key} = data[${JSON.stringify(key)}];`);
  const source = `const data = ${JSON.stringify(data)};\nexport default data;\n${named.join('\n')}`;
  return { format: 'module', source, shortCircuit: true };
}
