// A registry project's members and robot accounts: add/remove members, create robots (secret shown once),
// delete robots. Only project admins may; others see the forms disabled with the reason (the server enforces).
import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { type Me, useMe } from '../session.ts';
import { ErrorNote } from './badge.tsx';

interface Member {
  user: string;
  role: string;
}
interface Robot {
  name: string;
  permission: string;
  createdAt?: string;
  createdBy?: string;
  expiresAt?: string | null;
}

const ROLES = ['guest', 'developer', 'maintainer', 'admin'];

/** Mirrors the server's `project.admin` check; returns why not, or undefined when allowed. */
export function whyCannotAdminProject(me: Me, project: string): string | undefined {
  if (me.role === 'admin') return undefined;
  if (me.bindings.some((b) => b.scope === 'project' && b.name === project && b.role === 'admin'))
    return undefined;
  return `${me.name} is not an admin of project ${project}; only project admins manage members and robot accounts`;
}

export function ProjectAccess({ project }: { project: string }) {
  const me = useMe();
  const why = whyCannotAdminProject(me, project);
  const enc = encodeURIComponent(project);
  // Listing members and robots is itself a project-admin right: without it, do not ask (it would be 403).
  const members = useApi<{ items: Member[] }>(why ? null : `/api/v1/registry/projects/${enc}/members`);
  const robots = useApi<{ items: Robot[] }>(why ? null : `/api/v1/registry/projects/${enc}/robots`);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [user, setUser] = useState('');
  const [role, setRole] = useState('developer');
  const [robotName, setRobotName] = useState('');
  const [permission, setPermission] = useState('pull');
  const [created, setCreated] = useState<{ name: string; secret: string }>();

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const addMember = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api('POST', `/api/v1/registry/projects/${enc}/members`, { user: user.trim(), role });
      setUser('');
      members.reload();
    });
  };
  const removeMember = (name: string) =>
    run(async () => {
      await api('DELETE', `/api/v1/registry/projects/${enc}/members/${encodeURIComponent(name)}`);
      members.reload();
    });
  const createRobot = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await api<Robot & { secret: string }>('POST', `/api/v1/registry/projects/${enc}/robots`, {
        name: robotName.trim(),
        permission,
      });
      setCreated({ name: r.name, secret: r.secret });
      setRobotName('');
      robots.reload();
    });
  };
  const deleteRobot = (name: string) =>
    run(async () => {
      await api('DELETE', `/api/v1/registry/projects/${enc}/robots/${encodeURIComponent(name)}`);
      if (created?.name === name) setCreated(undefined);
      robots.reload();
    });
  const disabled = !!why || busy;

  return (
    <div className="project-access">
      {why && (
        <p className="muted small" data-testid="access-disabled-reason">
          {why}.
        </p>
      )}
      <ErrorNote error={error ?? members.error ?? robots.error} />
      <div className="two-col">
        <section data-testid="members">
          <h2>Members</h2>
          <table className="grid-table">
            <tbody>
              {(members.data?.items ?? []).map((m) => (
                <tr key={m.user} data-member={m.user}>
                  <td>{m.user}</td>
                  <td className="muted">{m.role}</td>
                  <td>
                    <button
                      type="button"
                      disabled={disabled}
                      title={why ?? `Remove ${m.user} from ${project}`}
                      onClick={() => removeMember(m.user)}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form className="inline-form" onSubmit={addMember} aria-label="add member">
            <input
              name="member-user"
              placeholder="user name"
              value={user}
              onChange={(e) => setUser(e.target.value)}
              disabled={disabled}
              title={why}
              required
            />
            <select
              name="member-role"
              value={role}
              onChange={(e) => setRole(e.target.value)}
              disabled={disabled}
              aria-label="role"
            >
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
            <button type="submit" disabled={disabled} title={why ?? 'Add the member with this role'}>
              Add member
            </button>
          </form>
        </section>
        <section data-testid="robots">
          <h2>Robot accounts</h2>
          {created && (
            <div className="note tone-ok" data-testid="robot-secret">
              Secret of <code>{created.name}</code> (shown once, copy it now): <code>{created.secret}</code>{' '}
              <button type="button" onClick={() => setCreated(undefined)}>
                Done
              </button>
            </div>
          )}
          <table className="grid-table">
            <tbody>
              {(robots.data?.items ?? []).map((r) => (
                <tr key={r.name} data-robot={r.name}>
                  <td>
                    <code>{r.name}</code>
                  </td>
                  <td className="muted">{r.permission}</td>
                  <td className="muted small">
                    {r.expiresAt ? `expires ${r.expiresAt.slice(0, 10)}` : 'no expiry'}
                  </td>
                  <td>
                    <button
                      type="button"
                      disabled={disabled}
                      title={why ?? `Delete ${r.name}`}
                      onClick={() => deleteRobot(r.name)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form className="inline-form" onSubmit={createRobot} aria-label="create robot">
            <input
              name="robot-name"
              placeholder="robot name, e.g. ci"
              value={robotName}
              onChange={(e) => setRobotName(e.target.value)}
              disabled={disabled}
              title={why}
              required
            />
            <select
              name="robot-permission"
              value={permission}
              onChange={(e) => setPermission(e.target.value)}
              disabled={disabled}
              aria-label="permission"
            >
              <option>pull</option>
              <option>push</option>
            </select>
            <button type="submit" disabled={disabled} title={why ?? 'Create a robot account'}>
              Create robot
            </button>
          </form>
        </section>
      </div>
    </div>
  );
}
