// CycloneDX 1.5 JSON SBOMs from installed packages, with package URLs.
import { createHash } from 'node:crypto';
import type { InstalledPackage, OsRelease } from './packages.ts';

export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

export interface CycloneDxComponent {
  type: 'library' | 'operating-system' | 'container' | 'application';
  'bom-ref': string;
  name: string;
  version: string;
  purl?: string;
  licenses?: { expression: string }[];
  properties?: { name: string; value: string }[];
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: '1.5';
  serialNumber: string;
  version: 1;
  metadata: {
    timestamp: string;
    tools: { components: { type: 'application'; name: string; version: string }[] };
    component: CycloneDxComponent;
  };
  components: CycloneDxComponent[];
}

function enc(s: string): string {
  return encodeURIComponent(s).replace(/%3A/gi, ':');
}

/** The package URL (purl) of an installed package. */
export function packageUrl(p: InstalledPackage, os?: OsRelease): string {
  const qualifiers: string[] = [];
  if (p.arch) qualifiers.push(`arch=${enc(p.arch)}`);
  switch (p.ecosystem) {
    case 'Debian':
    case 'Ubuntu': {
      if (os?.versionId) qualifiers.push(`distro=${os.id}-${os.versionId}`);
      const ns = p.ecosystem.toLowerCase();
      return `pkg:deb/${ns}/${enc(p.name)}@${enc(p.version)}${qualifiers.length ? `?${qualifiers.join('&')}` : ''}`;
    }
    case 'Alpine':
      if (os?.versionId) qualifiers.push(`distro=${os.versionId}`);
      return `pkg:apk/alpine/${enc(p.name)}@${enc(p.version)}${qualifiers.length ? `?${qualifiers.join('&')}` : ''}`;
    case 'npm': {
      const [scope, name] = p.name.startsWith('@') ? p.name.split('/') : [undefined, p.name];
      return `pkg:npm/${scope ? `${enc(scope)}/` : ''}${enc(name ?? p.name)}@${enc(p.version)}`;
    }
    case 'Packagist':
      return `pkg:composer/${p.name.split('/').map(enc).join('/')}@${enc(p.version)}`;
    case 'Maven': {
      const [g, a] = p.name.split(':');
      return `pkg:maven/${enc(g ?? '')}/${enc(a ?? '')}@${enc(p.version)}`;
    }
    case 'Go':
      return `pkg:golang/${p.name.split('/').map(enc).join('/')}@${enc(p.version)}`;
    default:
      return `pkg:generic/${enc(p.name)}@${enc(p.version)}`;
  }
}

/** A deterministic urn:uuid from a seed (the image digest), so the same image gives the same SBOM. */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const v = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `urn:uuid:${v}`;
}

/** Builds a CycloneDX 1.5 BOM for an image. */
export function buildCycloneDx(input: {
  image: { name: string; digest: string };
  os?: OsRelease;
  packages: InstalledPackage[];
  timestamp: string;
  toolVersion: string;
}): CycloneDxBom {
  const components: CycloneDxComponent[] = [];
  if (input.os) {
    components.push({
      type: 'operating-system',
      'bom-ref': `os:${input.os.id}@${input.os.versionId ?? ''}`,
      name: input.os.id,
      version: input.os.versionId ?? '',
    });
  }
  const seen = new Set<string>();
  for (const p of input.packages) {
    const purl = packageUrl(p, input.os);
    if (seen.has(purl)) continue;
    seen.add(purl);
    const properties = [{ name: 'slipway:package:location', value: p.location }];
    if (p.sourceName) properties.push({ name: 'slipway:package:source', value: p.sourceName });
    if (p.sourceVersion) properties.push({ name: 'slipway:package:source-version', value: p.sourceVersion });
    components.push({
      type: 'library',
      'bom-ref': purl,
      name: p.name,
      version: p.version,
      purl,
      ...(p.license ? { licenses: [{ expression: p.license }] } : {}),
      properties,
    });
  }
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: uuidFrom(input.image.digest),
    version: 1,
    metadata: {
      timestamp: input.timestamp,
      tools: { components: [{ type: 'application', name: 'slipway', version: input.toolVersion }] },
      component: {
        type: 'container',
        'bom-ref': `${input.image.name}@${input.image.digest}`,
        name: input.image.name,
        version: input.image.digest,
      },
    },
    components,
  };
}
