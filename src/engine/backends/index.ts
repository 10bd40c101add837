/** The backend registry: the TypeScript and native backends by name, and the one in use. */
import type { Backend } from '../backend.js';
import { createNativeBackend, loadAddon, nativeLoadError } from './native/index.js';
import { createTsBackend } from './ts/index.js';

const registry = new Map<string, () => Backend>([
  ['ts', createTsBackend],
  ['native', createNativeBackend],
]);
let active: Backend | null = null;

export function registerBackend(name: string, factory: () => Backend): void {
  registry.set(name, factory);
}

export function availableBackends(): string[] {
  return [...registry.keys()];
}

export function setBackend(name: string): Backend {
  const factory = registry.get(name);
  if (!factory) {
    throw new Error(
      `unknown backend '${name}': expected one of ${availableBackends()
        .map((b) => `'${b}'`)
        .join(', ')}`,
    );
  }
  active = factory();
  return active;
}

/**
 * The backend chosen by CONVLAB_BACKEND ('native' or 'ts'); otherwise the native one when its addon loads, and
 * the TypeScript one (with a one-line notice) when it does not.
 */
function defaultBackend(): Backend {
  const wanted = process.env.CONVLAB_BACKEND;
  if (wanted) return setBackend(wanted);
  if (loadAddon()) return createNativeBackend();
  if (!process.env.CONVLAB_QUIET_FALLBACK) process.stderr.write(`convlab: using the TypeScript backend (${nativeLoadError()})\n`);
  return createTsBackend();
}

export function getBackend(): Backend {
  active ??= defaultBackend();
  return active;
}
