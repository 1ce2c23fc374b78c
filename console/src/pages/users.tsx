/** An org's users: list, create (global user admins), change their roles in this org. */
import { useState } from 'preact/hooks';
import { api, type ListPage, type Role } from '../api.js';
import { ORG_ROLES } from '../roles.js';
import { ErrorNote, RoleList, RolePicker, TextField, useAction, useLoad } from '../ui.js';
import type { PageProps } from './common.js';

interface User {
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  emailAddress?: string;
  roles: Role[];
}

function UserRow({
  u,
  orgId,
  canWrite,
  reload,
}: {
  u: User;
  orgId: string;
  canWrite: boolean;
  reload: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [roles, setRoles] = useState(
    new Set(u.roles.filter((r) => r.orgId === orgId).map((r) => r.roleName)),
  );
  const save = useAction();
  return (
    <tr>
      <td>{u.username}</td>
      <td>
        {u.firstName} {u.lastName}
      </td>
      <td>
        {editing ? (
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              // PATCH replaces every role: those outside this org are sent back unchanged.
              const others = u.roles.filter((r) => r.orgId !== orgId);
              const mine = [...roles].map((roleName) => ({ orgId, roleName }));
              if (await save.run(() => api('PATCH', `/users/${u.id}`, { roles: [...others, ...mine] }))) {
                setEditing(false);
                reload();
              }
            }}
          >
            <RolePicker
              legend={`Roles of ${u.username} in this organization`}
              choices={ORG_ROLES}
              value={roles}
              onChange={setRoles}
            />
            <button type="submit" class="primary" disabled={save.busy}>
              Save roles
            </button>{' '}
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <ErrorNote error={save.error} />
          </form>
        ) : (
          <RoleList roles={u.roles} />
        )}
      </td>
      <td>
        {canWrite && !editing && (
          <button type="button" onClick={() => setEditing(true)}>
            Change roles
          </button>
        )}
      </td>
    </tr>
  );
}

/** The org's users. */
export function UsersPage({ orgId, powers }: PageProps & { orgId: string }) {
  const list = useLoad(() => api<ListPage<User>>('GET', `/orgs/${orgId}/users?itemsPerPage=500`), [orgId]);
  const [form, setForm] = useState({
    username: '',
    password: '',
    firstName: '',
    lastName: '',
    emailAddress: '',
  });
  const [roles, setRoles] = useState<Set<string>>(new Set(['ORG_MEMBER']));
  const create = useAction();
  const canWrite = powers.globalAdmin;
  const field = (k: keyof typeof form, label: string, type = 'text') => (
    <TextField
      id={`user-${k}`}
      label={label}
      type={type}
      required={k !== 'emailAddress'}
      autocomplete={type === 'password' ? 'new-password' : 'off'}
      value={form[k]}
      onValue={(v) => setForm({ ...form, [k]: v })}
    />
  );
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <ErrorNote error={list.error} />
      {list.data && (
        <div class="table-wrap">
          <table data-testid="users-table">
            <caption class="sr-only">Users of the organization</caption>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Roles</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.results.map((u) => (
                <UserRow
                  key={`${u.id}:${u.roles.length}`}
                  u={u}
                  orgId={orgId}
                  canWrite={canWrite}
                  reload={list.reload}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && (
        <form
          class="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            const body = {
              ...form,
              emailAddress: form.emailAddress || undefined,
              roles: [...roles].map((roleName) => ({ orgId, roleName })),
            };
            if (await create.run(() => api('POST', '/users', body))) {
              setForm({ username: '', password: '', firstName: '', lastName: '', emailAddress: '' });
              list.reload();
            }
          }}
        >
          <h2>Create a user</h2>
          {field('username', 'Username')}
          {field('password', 'Password', 'password')}
          {field('firstName', 'First name')}
          {field('lastName', 'Last name')}
          {field('emailAddress', 'Email address (optional)', 'email')}
          <RolePicker
            legend="Roles in this organization"
            choices={ORG_ROLES}
            value={roles}
            onChange={setRoles}
          />
          <ErrorNote error={create.error} />
          <div>
            <button type="submit" class="primary" disabled={create.busy}>
              Create user
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
