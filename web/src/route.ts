/**
 * Where the page is, kept in the URL's hash so that a copied link reproduces the view: '#/' (experiments),
 * '#/e/NAME?tab=runs&sort=...&filter=...&sel=1,2' (an experiment), '#/t/ID' (a trial), '#/diff?a=1&b=2'.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string[];
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const q = hash.indexOf('?');
  const path = (q === -1 ? hash : hash.slice(0, q)).split('/').filter(Boolean).map(decodeURIComponent);
  return { path, params: new URLSearchParams(q === -1 ? '' : hash.slice(q + 1)) };
}

export function href(path: (string | number)[], params: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `#/${path.map((p) => encodeURIComponent(String(p))).join('/')}${s ? `?${s}` : ''}`;
}

/** Changes some of the current view's parameters in place (no new history entry), keeping the others. */
export function setParams(patch: Record<string, string | number | undefined | null>): void {
  const r = currentRoute();
  const params: Record<string, string> = Object.fromEntries(r.params.entries());
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || v === null || v === '') delete params[k];
    else params[k] = String(v);
  }
  history.replaceState(null, '', href(r.path, params));
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** The store's data version, polled every 1.5 s: views fetch again when it changes (another process wrote). */
export function useStoreVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const r = await fetch('/api/version');
        const { version: v } = (await r.json()) as { version: number };
        if (!stopped) setVersion(v);
      } catch {
        // The server is gone for a moment (restarting): try again on the next tick.
      }
    };
    tick();
    const timer = setInterval(tick, 1500);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  return version;
}

/** Fetches when the key (URL and store version) changes; keeps the last good data while the next loads. */
export function useFetch<T>(load: () => Promise<T>, key: string): { data: T | null; error: string | null } {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setState({ data, error: null }),
      (e: Error) => current && setState((s) => ({ data: s.data, error: e.message })),
    );
    return () => {
      current = false;
    };
  }, [key]);
  return state;
}
