// Registry: projects, repositories, tags with digest, size, push time and vulnerability badges; a tag page.
import { Ago, Badge, ErrorNote } from '../components/badge.tsx';
import { ProjectAccess } from '../components/project-access.tsx';
import { href, useApi } from '../hooks.ts';

interface Project {
  name: string;
  public?: boolean;
  repoCount?: number;
  repositories?: number;
  usedBytes?: number;
  quotaBytes?: number | null;
}
interface Repo {
  name: string;
  tagCount?: number;
  tags?: number;
  updatedAt?: string;
}
interface Tag {
  name?: string;
  tag?: string;
  digest: string;
  size?: number;
  pushedAt?: string;
  mediaType?: string;
  vulnerabilities?: Record<string, number> | null;
  scan?: { counts?: Record<string, number> } | null;
}

export function formatBytes(n: number | undefined | null): string {
  if (n === undefined || n === null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function VulnBadges({ counts }: { counts: Record<string, number> | null | undefined }) {
  if (!counts) return <span className="muted small">not scanned</span>;
  const order = ['critical', 'high', 'medium', 'low'];
  const shown = order.filter((s) => (counts[s] ?? counts[s.toUpperCase()] ?? 0) > 0);
  if (shown.length === 0) return <Badge status="Healthy" title="no known vulnerabilities" />;
  return (
    <span className="badges">
      {shown.map((s) => (
        <span key={s} className={`badge tone-${s === 'medium' ? 'warn' : s === 'low' ? 'muted' : 'bad'}`}>
          {counts[s] ?? counts[s.toUpperCase()]} {s}
        </span>
      ))}
    </span>
  );
}

export function RegistryPage({ path }: { path: string[] }) {
  if (path[0] === 'tag')
    return <TagPage repo={path.slice(1, -1).join('/')} reference={path[path.length - 1]!} />;
  if (path[0] === 'repo') return <RepoPage repo={path.slice(1).join('/')} />;
  if (path[0]) return <ProjectPage project={path[0]} />;
  return <ProjectList />;
}

function ProjectList() {
  const projects = useApi<{ items: Project[] }>('/api/v1/registry/projects', ['registry.']);
  return (
    <div className="page">
      <h1>Registry</h1>
      <ErrorNote error={projects.error} />
      <table className="grid-table">
        <thead>
          <tr>
            <th>Project</th>
            <th>Access</th>
            <th>Repositories</th>
            <th>Storage</th>
          </tr>
        </thead>
        <tbody>
          {(projects.data?.items ?? []).map((p) => (
            <tr key={p.name}>
              <td>
                <a href={href('registry', p.name)}>{p.name}</a>
              </td>
              <td>{p.public ? 'public' : 'private'}</td>
              <td>{p.repoCount ?? p.repositories ?? ''}</td>
              <td>
                {formatBytes(p.usedBytes)}
                {p.quotaBytes ? ` / ${formatBytes(p.quotaBytes)}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ProjectPage({ project }: { project: string }) {
  const repos = useApi<{ items: Repo[] }>(
    `/api/v1/registry/repositories?project=${encodeURIComponent(project)}`,
    ['registry.'],
  );
  return (
    <div className="page">
      <h1>
        <a href={href('registry')}>Registry</a> / {project}
      </h1>
      <ErrorNote error={repos.error} />
      <h2>Repositories</h2>
      <table className="grid-table">
        <thead>
          <tr>
            <th>Repository</th>
            <th>Tags</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {(repos.data?.items ?? []).map((r) => (
            <tr key={r.name}>
              <td>
                <a href={`#/registry/repo/${r.name}`}>{r.name}</a>
              </td>
              <td>{r.tagCount ?? r.tags}</td>
              <td>
                <Ago time={r.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ProjectAccess project={project} />
    </div>
  );
}

function RepoPage({ repo }: { repo: string }) {
  const tags = useApi<{ items: Tag[] }>(`/api/v1/registry/repositories/${repo}/tags`, ['registry.', 'scan.']);
  const project = repo.split('/')[0]!;
  return (
    <div className="page">
      <h1>
        <a href={href('registry')}>Registry</a> / <a href={href('registry', project)}>{project}</a> /{' '}
        {repo.slice(project.length + 1)}
      </h1>
      <ErrorNote error={tags.error} />
      <table className="grid-table">
        <thead>
          <tr>
            <th>Tag</th>
            <th>Digest</th>
            <th>Size</th>
            <th>Pushed</th>
            <th>Vulnerabilities</th>
          </tr>
        </thead>
        <tbody>
          {(tags.data?.items ?? []).map((t) => {
            const name = t.name ?? t.tag ?? '';
            return (
              <tr key={name}>
                <td>
                  <a href={`#/registry/tag/${repo}/${encodeURIComponent(name)}`}>{name}</a>
                </td>
                <td>
                  <code title={t.digest}>{t.digest.slice(0, 19)}</code>
                </td>
                <td>{formatBytes(t.size)}</td>
                <td>
                  <Ago time={t.pushedAt} />
                </td>
                <td>
                  <VulnBadges counts={t.vulnerabilities ?? t.scan?.counts ?? null} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

interface Finding {
  id?: string;
  advisory?: string;
  package: string | { name: string };
  installed?: string;
  installedVersion?: string;
  fixed?: string | null;
  fixedVersion?: string | null;
  severity: string;
}
interface TagDetail {
  digest: string;
  mediaType?: string;
  manifest?: { layers?: { digest: string; size: number; mediaType: string }[] };
  config?: unknown;
}

function TagPage({ repo, reference }: { repo: string; reference: string }) {
  const detail = useApi<TagDetail>(
    `/api/v1/registry/repositories/${repo}/manifests/${encodeURIComponent(reference)}`,
    ['registry.'],
  );
  const digest = detail.data?.digest;
  const scan = useApi<{
    counts?: Record<string, number>;
    findings?: Finding[];
    sbom?: { components?: { name: string; version: string; type?: string }[] };
  }>(digest ? `/api/v1/scan/reports/${repo}/${digest}` : null, ['scan.']);
  return (
    <div className="page">
      <h1>
        <a href={`#/registry/repo/${repo}`}>{repo}</a> : {reference}
      </h1>
      <ErrorNote error={detail.error} />
      {detail.data && (
        <>
          <p>
            <code>{detail.data.digest}</code> <span className="muted">{detail.data.mediaType}</span>
          </p>
          <h2>Layers</h2>
          <table className="grid-table">
            <tbody>
              {(detail.data.manifest?.layers ?? []).map((l) => (
                <tr key={l.digest}>
                  <td>
                    <code>{l.digest.slice(0, 19)}</code>
                  </td>
                  <td>{formatBytes(l.size)}</td>
                  <td className="muted">{l.mediaType}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Config</h2>
          <pre className="code">{JSON.stringify(detail.data.config, null, 2)}</pre>
        </>
      )}
      <h2>Vulnerabilities</h2>
      {scan.error && <p className="muted">{scan.error.message}</p>}
      {scan.data && (
        <>
          <VulnBadges counts={scan.data.counts} />
          <table className="grid-table">
            <thead>
              <tr>
                <th>Advisory</th>
                <th>Package</th>
                <th>Installed</th>
                <th>Fixed in</th>
                <th>Severity</th>
              </tr>
            </thead>
            <tbody>
              {(scan.data.findings ?? []).map((f, i) => (
                <tr key={i}>
                  <td>{f.id ?? f.advisory}</td>
                  <td>{typeof f.package === 'string' ? f.package : f.package.name}</td>
                  <td>{f.installed ?? f.installedVersion}</td>
                  <td>{f.fixed ?? f.fixedVersion ?? '—'}</td>
                  <td>
                    <Badge status={f.severity} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>SBOM</h2>
          <p className="muted">{scan.data.sbom?.components?.length ?? 0} packages</p>
        </>
      )}
    </div>
  );
}
