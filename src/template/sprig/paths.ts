// Sprig's path and URL functions: Go's path (base, dir, clean, ext, isAbs), filepath (os*), urlParse/urlJoin.
import type { TemplateFunction } from '../signature.ts';
import { isGoMap } from '../value.ts';
import { strval } from './convert.ts';
import { sig } from './strings.ts';

/** Go's path.Clean. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

function base(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function dir(p: string): string {
  const i = p.lastIndexOf('/');
  return cleanPath(p.slice(0, i + 1));
}

function ext(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

function urlParse(v: string): Record<string, unknown> {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(v);
  if (!m) throw new Error(`unable to parse url: ${v}`);
  const authority = m[2] ?? '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  const hostname = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:[0-9]*$/, '');
  const scheme = m[1] ?? '';
  const path = m[3] ?? '';
  const opaque = scheme && !m[2] && !path.startsWith('/') ? path : '';
  return {
    scheme,
    host,
    hostname,
    path: opaque ? '' : decodeURIComponentSafe(path),
    query: m[4] ?? '',
    opaque,
    fragment: decodeURIComponentSafe(m[5] ?? ''),
    userinfo,
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function urlJoin(d: unknown): string {
  const m = (isGoMap(d) ? d : {}) as Record<string, unknown>;
  const get = (k: string): string => (m[k] === undefined || m[k] === null ? '' : strval(m[k]));
  let out = '';
  const scheme = get('scheme');
  if (scheme) out += scheme + ':';
  const opaque = get('opaque');
  if (opaque) out += opaque;
  else {
    const host = get('host');
    const userinfo = get('userinfo');
    if (scheme || host || userinfo) {
      out += '//';
      if (userinfo) out += userinfo + '@';
      out += host;
    }
    const path = get('path');
    if (path && !path.startsWith('/') && host) out += '/';
    out += encodeURI(path).replace(/%25/g, '%');
  }
  const query = get('query');
  if (query) out += '?' + query;
  const fragment = get('fragment');
  if (fragment) out += '#' + encodeURIComponent(fragment).replace(/%2F/g, '/');
  return out;
}

export function pathFunctions(): Record<string, TemplateFunction> {
  const S = sig(['string']);
  return {
    base: S(base),
    dir: S(dir),
    clean: S(cleanPath),
    ext: S(ext),
    isAbs: S((p: string) => p.startsWith('/')),
    osBase: S(base),
    osDir: S(dir),
    osClean: S(cleanPath),
    osExt: S(ext),
    osIsAbs: S((p: string) => p.startsWith('/')),
    urlParse: S(urlParse),
    urlJoin: sig(['map'])(urlJoin),
  };
}
