import { Ago, ErrorNote } from '../components/badge.tsx';
import { useApi } from '../hooks.ts';

interface User {
  name: string;
  role: string;
  createdAt: string;
  bindings: { scope: string; name: string; role: string }[];
}
interface Audit {
  id: number;
  time: string;
  actor: string;
  action: string;
  resource: string;
  outcome: string;
}

export function UsersPage() {
  const users = useApi<{ items: User[] }>('/api/v1/users');
  const audit = useApi<{ items: Audit[] }>('/api/v1/audit?limit=50', ['app.', 'build.', 'registry.']);
  return (
    <div className="page">
      <h1>Users</h1>
      <ErrorNote error={users.error} />
      <table className="grid-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Rights</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {users.data?.items.map((u) => (
            <tr key={u.name}>
              <td>{u.name}</td>
              <td>{u.role}</td>
              <td>{u.bindings.map((b) => `${b.scope}:${b.name}=${b.role}`).join(', ')}</td>
              <td>
                <Ago time={u.createdAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Audit log</h2>
      <ErrorNote error={audit.error} />
      <table className="grid-table">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>Action</th>
            <th>Resource</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {audit.data?.items.map((a) => (
            <tr key={a.id}>
              <td>
                <Ago time={a.time} />
              </td>
              <td>{a.actor}</td>
              <td>{a.action}</td>
              <td>{a.resource}</td>
              <td>{a.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
