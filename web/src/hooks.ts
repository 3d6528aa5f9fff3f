// Data hooks: load a path, reload when matching live events arrive (debounced), no page reloads.
import { useCallback, useEffect, useRef, useState } from 'react';
import { type ApiError, get, takeReady } from './api.ts';
import { subscribe } from './events.ts';
import { parseRoute } from './routes.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload(): void;
}

export function useApi<T>(path: string | null, refreshOn: string[] = [], pollMs = 0): Loaded<T> {
  // An answer that arrived before the first render (started by the boot script) is used at once.
  const [ready] = useState(() => (path ? takeReady<T>(path) : undefined));
  const [data, setData] = useState<T | undefined>(ready?.data);
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(!ready);
  const seq = useRef(0);
  const skipFirstLoad = useRef(ready !== undefined);
  const load = useCallback(() => {
    if (!path) return;
    const mine = ++seq.current;
    get<T>(path).then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: Error) => {
        if (mine !== seq.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [path]);
  useEffect(() => {
    if (skipFirstLoad.current) {
      skipFirstLoad.current = false;
      return;
    }
    setLoading(true);
    load();
  }, [load]);
  const key = refreshOn.join(',');
  useEffect(() => {
    if (!key) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = subscribe(key.split(','), () => {
      clearTimeout(timer);
      timer = setTimeout(load, 150);
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  }, [key, load]);
  useEffect(() => {
    if (!pollMs) return;
    const t = setInterval(load, pollMs);
    return () => clearInterval(t);
  }, [pollMs, load]);
  return { data, error, loading, reload: load };
}

export function useHashRoute(): string[] {
  const parse = () => parseRoute(window.location.hash);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function href(...parts: (string | number)[]): string {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
}
