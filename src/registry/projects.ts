// Harbor-style projects: visibility, members (auth bindings), robot accounts, tag immutability rules,
// storage quota and the vulnerability policy the deploy path reads.
import { randomBytes } from 'node:crypto';
import picomatch from 'picomatch';
import {
  type AuthService,
  type Binding,
  isProjectRole,
  type ProjectRole,
  type Subject,
  SYSTEM,
  validateName,
} from '../auth/index.ts';
import {
  type Clock,
  ConflictError,
  constantTimeEqual,
  InputError,
  NotFoundError,
  sha256Hex,
} from '../core/index.ts';
import type { ProjectRow, RobotRow, Statements } from './metadata.ts';
import { OciError } from './oci-errors.ts';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Project {
  name: string;
  public: boolean;
  /** Storage quota in bytes; null means unlimited. */
  quotaBytes: number | null;
  /** Tag immutability rules: `TAG_GLOB` or `REPO_GLOB:TAG_GLOB` (repository path without the project). */
  immutableTags: string[];
  /** Deploys of images with a vulnerability at or above this severity are refused (null: no rule). */
  preventVulnerable: { severity: Severity } | null;
  createdAt: string;
  createdBy: string;
}

export interface ProjectUpdate {
  public?: boolean;
  quotaBytes?: number | null;
  immutableTags?: string[];
  preventVulnerable?: { severity: Severity } | null;
}

export interface Robot {
  /** Full name, `robot$<project>+<name>`: the user name for docker login and Basic auth. */
  name: string;
  project: string;
  permission: 'pull' | 'push';
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
}

export interface Member {
  user: string;
  role: ProjectRole;
}

function toProject(row: ProjectRow): Project {
  return {
    name: row.name,
    public: row.public === 1,
    quotaBytes: row.quota_bytes,
    immutableTags: JSON.parse(row.immutable_tags) as string[],
    preventVulnerable: row.prevent_vulnerable
      ? (JSON.parse(row.prevent_vulnerable) as { severity: Severity })
      : null,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function toRobot(row: RobotRow): Robot {
  return {
    name: row.name,
    project: row.project,
    permission: row.permission === 'push' ? 'push' : 'pull',
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
  };
}

function actorName(actor: Subject | string): string {
  return typeof actor === 'string' ? actor : actor.name || 'anonymous';
}

function checkRules(rules: unknown): string[] {
  if (!Array.isArray(rules) || rules.some((r) => typeof r !== 'string' || r === '' || r.length > 256)) {
    throw new InputError('immutableTags must be a list of glob patterns such as "v*" or "app:release-*"', {
      location: { field: 'immutableTags' },
    });
  }
  return rules as string[];
}

function checkQuota(q: unknown): number | null {
  if (q === null) return null;
  if (typeof q !== 'number' || !Number.isSafeInteger(q) || q < 0) {
    throw new InputError(`quotaBytes must be a whole number of bytes or null, not ${JSON.stringify(q)}`, {
      location: { field: 'quotaBytes' },
    });
  }
  return q;
}

function checkSeverity(p: unknown): { severity: Severity } | null {
  if (p === null) return null;
  const severity = (p as { severity?: unknown })?.severity;
  if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity)) {
    throw new InputError(
      `preventVulnerable.severity must be one of ${SEVERITIES.join(', ')}, not ${JSON.stringify(severity)}`,
      { location: { field: 'preventVulnerable.severity' } },
    );
  }
  return { severity: severity as Severity };
}

export class ProjectService {
  readonly #s: Statements;
  readonly #auth: AuthService;
  readonly #clock: Clock;
  readonly #cache = new Map<string, Project | null>();
  readonly #matchers = new Map<string, (repo: string, tag: string) => boolean>();

  constructor(options: { statements: Statements; auth: AuthService; clock: Clock }) {
    this.#s = options.statements;
    this.#auth = options.auth;
    this.#clock = options.clock;
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  /** The project, or undefined (cached; every write here refreshes the cache). */
  get(name: string): Project | undefined {
    let p = this.#cache.get(name);
    if (p === undefined) {
      const row = this.#s.projectGet.get(name);
      p = row ? toProject(row) : null;
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(name, p);
    }
    return p ?? undefined;
  }

  require(name: string): Project {
    const p = this.get(name);
    if (!p)
      throw new NotFoundError(`Registry project "${name}" not found`, { location: { field: 'project' } });
    return p;
  }

  isPublic(name: string): boolean {
    return this.get(name)?.public === true;
  }

  quotaOf(name: string): number | null {
    return this.get(name)?.quotaBytes ?? null;
  }

  list(): Project[] {
    return this.#s.projectList.all().map(toProject);
  }

  usage(name: string): number {
    return this.#s.projectUsage.get(name)?.bytes ?? 0;
  }

  /** Creates a project. The creator (unless a global admin) becomes its project admin. */
  create(
    input: { name: string; public?: boolean; quotaBytes?: number | null; immutableTags?: string[] },
    actor: Subject | string,
  ): Project {
    const name = validateName('project', input.name);
    const quota = checkQuota(input.quotaBytes ?? null);
    const rules = checkRules(input.immutableTags ?? []);
    this.#s.db.transaction(() => {
      if (this.#s.projectGet.get(name)) throw new ConflictError(`Registry project "${name}" already exists`);
      this.#s.projectInsert.run({
        name,
        public: input.public ? 1 : 0,
        quota_bytes: quota,
        immutable_tags: JSON.stringify(rules),
        prevent_vulnerable: null,
        created_at: this.#now(),
        created_by: actorName(actor),
      });
      this.#cache.delete(name);
      if (typeof actor !== 'string' && actor.kind === 'user' && actor.role !== 'admin') {
        this.#auth.bind(actor.name, { scope: 'project', name, role: 'admin' }, actor);
      }
      this.#auth.audit({
        actor,
        action: 'registry.project.create',
        resource: `project/${name}`,
        details: { public: input.public === true },
      });
    })();
    return this.require(name);
  }

  update(name: string, patch: ProjectUpdate, actor: Subject | string): Project {
    const p = this.require(name);
    const next = {
      name,
      public: (patch.public ?? p.public) ? 1 : 0,
      quota_bytes: patch.quotaBytes !== undefined ? checkQuota(patch.quotaBytes) : p.quotaBytes,
      immutable_tags: JSON.stringify(
        patch.immutableTags !== undefined ? checkRules(patch.immutableTags) : p.immutableTags,
      ),
      prevent_vulnerable: JSON.stringify(
        patch.preventVulnerable !== undefined ? checkSeverity(patch.preventVulnerable) : p.preventVulnerable,
      ),
    };
    if (next.prevent_vulnerable === 'null') next.prevent_vulnerable = null as unknown as string;
    this.#s.projectUpdate.run(next);
    this.#cache.delete(name);
    this.#matchers.delete(name);
    this.#auth.audit({
      actor,
      action: 'registry.project.update',
      resource: `project/${name}`,
      details: { ...patch },
    });
    return this.require(name);
  }

  /** Deletes an empty project (its robots and member bindings go with it). */
  delete(name: string, actor: Subject | string): void {
    this.require(name);
    const repos = this.#s.repoCountByProject.get(name)?.n ?? 0;
    if (repos > 0)
      throw new ConflictError(
        `Registry project "${name}" still has ${repos} repositories; delete them first`,
      );
    for (const m of this.members(name)) this.#auth.unbind(m.user, { scope: 'project', name }, actor);
    this.#s.projectDelete.run(name);
    this.#cache.delete(name);
    this.#auth.audit({ actor, action: 'registry.project.delete', resource: `project/${name}` });
  }

  // ---- members -----------------------------------------------------------------------------------

  members(project: string): Member[] {
    this.require(project);
    const out: Member[] = [];
    for (const u of this.#auth.listUsers()) {
      for (const b of u.bindings)
        if (b.scope === 'project' && b.name === project)
          out.push({ user: u.name, role: b.role as ProjectRole });
    }
    return out;
  }

  addMember(project: string, user: string, role: string, actor: Subject | string): Member {
    this.require(project);
    if (!isProjectRole(role))
      throw new InputError(
        `Invalid project role ${JSON.stringify(role)}: use admin, maintainer, developer or guest`,
        {
          location: { field: 'role' },
        },
      );
    this.#auth.bind(user, { scope: 'project', name: project, role } as Binding, actor);
    return { user, role };
  }

  removeMember(project: string, user: string, actor: Subject | string): void {
    this.require(project);
    this.#auth.unbind(user, { scope: 'project', name: project }, actor);
  }

  // ---- robots ------------------------------------------------------------------------------------

  /** Creates a robot account; its secret is returned once and only a hash is kept. */
  createRobot(
    project: string,
    input: { name: string; permission?: string; expiresInDays?: number },
    actor: Subject | string,
  ): { robot: Robot; secret: string } {
    this.require(project);
    const short = validateName('robot', input.name);
    const permission = input.permission ?? 'pull';
    if (permission !== 'pull' && permission !== 'push')
      throw new InputError(`Robot permission must be "pull" or "push", not ${JSON.stringify(permission)}`, {
        location: { field: 'permission' },
      });
    const name = `robot$${project}+${short}`;
    const secret = randomBytes(24).toString('base64url');
    const expires =
      input.expiresInDays !== undefined
        ? new Date(this.#clock.now() + input.expiresInDays * 86400_000).toISOString()
        : null;
    this.#s.db.transaction(() => {
      if (this.#s.robotGet.get(name)) throw new ConflictError(`Robot "${name}" already exists`);
      this.#s.robotInsert.run({
        name,
        project,
        short_name: short,
        permission,
        secret_hash: sha256Hex(secret),
        created_at: this.#now(),
        created_by: actorName(actor),
        expires_at: expires,
      });
      this.#auth.audit({
        actor,
        action: 'registry.robot.create',
        resource: `project/${project}/robot/${short}`,
        details: { permission },
      });
    })();
    return { robot: toRobot(this.#s.robotGet.get(name)!), secret };
  }

  robots(project: string): Robot[] {
    this.require(project);
    return this.#s.robotList.all(project).map(toRobot);
  }

  deleteRobot(project: string, name: string, actor: Subject | string): void {
    const full = name.startsWith('robot$') ? name : `robot$${project}+${name}`;
    const row = this.#s.robotGet.get(full);
    if (!row || row.project !== project) throw new NotFoundError(`Robot "${full}" not found`);
    this.#s.robotDelete.run(full);
    this.#auth.audit({
      actor,
      action: 'registry.robot.delete',
      resource: `project/${project}/robot/${row.short_name}`,
    });
  }

  /** The subject of a robot whose secret checks out, or undefined. */
  verifyRobot(name: string, secret: string): Subject | undefined {
    const row = this.#s.robotGet.get(name);
    const hash = sha256Hex(secret);
    if (!row) {
      constantTimeEqual(hash, hash);
      return undefined;
    }
    if (!constantTimeEqual(hash, row.secret_hash)) return undefined;
    if (row.expires_at && Date.parse(row.expires_at) <= this.#clock.now()) return undefined;
    return this.robotSubject(row.name);
  }

  /** The subject of an existing robot (used again when a token is refreshed). */
  robotSubject(name: string): Subject | undefined {
    const row = this.#s.robotGet.get(name);
    if (!row) return undefined;
    return {
      kind: 'robot',
      name: row.name,
      role: null,
      bindings: [
        { scope: 'project', name: row.project, role: row.permission === 'push' ? 'developer' : 'guest' },
      ],
    };
  }

  // ---- tag immutability --------------------------------------------------------------------------

  #isImmutable(project: string, repo: string, tag: string): boolean {
    const p = this.get(project);
    if (!p || p.immutableTags.length === 0) return false;
    let match = this.#matchers.get(project);
    if (!match) {
      const rules = p.immutableTags.map((rule) => {
        const colon = rule.indexOf(':');
        const repoGlob = colon >= 0 ? rule.slice(0, colon) : '**';
        const tagGlob = colon >= 0 ? rule.slice(colon + 1) : rule;
        return { repo: picomatch(repoGlob, { dot: true }), tag: picomatch(tagGlob, { dot: true }) };
      });
      match = (r, t) => rules.some((m) => m.repo(r) && m.tag(t));
      this.#matchers.set(project, match);
    }
    return match(repo.slice(project.length + 1), tag);
  }

  /** Throws DENIED when `tag` is immutable and already points at another manifest. */
  checkTagMutable(
    project: string,
    repo: string,
    tag: string,
    current: string | undefined,
    next: string,
  ): void {
    if (current === undefined || current === next) return;
    if (this.#isImmutable(project, repo, tag))
      throw new OciError(
        'DENIED',
        `Tag ${repo}:${tag} is immutable in project "${project}" and cannot be overwritten`,
        {
          detail: { repository: repo, tag },
        },
      );
  }

  /** Throws DENIED when `tag` is immutable. */
  checkTagDeletable(project: string, repo: string, tag: string): void {
    if (this.#isImmutable(project, repo, tag))
      throw new OciError(
        'DENIED',
        `Tag ${repo}:${tag} is immutable in project "${project}" and cannot be deleted`,
        {
          detail: { repository: repo, tag },
        },
      );
  }

  /** For the REST layer: may `subject` see this project at all? */
  visibleTo(project: Project, subject: Subject): boolean {
    return this.#auth.can(subject, 'registry.pull', {
      kind: 'project',
      name: project.name,
      public: project.public,
    });
  }

  requireAdmin(subject: Subject, project: string): Project {
    const p = this.require(project);
    this.#auth.require(subject, 'project.admin', { kind: 'project', name: project, public: p.public });
    return p;
  }

  requireCreate(subject: Subject): void {
    this.#auth.require(subject, 'project.create', SYSTEM);
  }
}
