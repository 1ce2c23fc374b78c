/** An org's projects (list, create, delete) and a project's keys (assign, change roles, unassign, create). */
import { useState } from 'preact/hooks';
import { type ApiKey, api, type ListPage } from '../api.js';
import { GROUP_ROLES } from '../roles.js';
import { href } from '../router.js';
import {
  ConfirmButton,
  ErrorNote,
  Expiry,
  RoleList,
  RolePicker,
  ShowOnce,
  TextField,
  useAction,
  useLoad,
} from '../ui.js';
import type { PageProps } from './common.js';
import { NewKeyForm } from './keys.js';

interface Project {
  id: string;
  name: string;
  orgId: string;
  created?: string;
}

/** The org's projects. */
export function ProjectsPage({ orgId, powers }: PageProps & { orgId: string }) {
  const list = useLoad(
    () => api<ListPage<Project>>('GET', `/orgs/${orgId}/groups?itemsPerPage=500`),
    [orgId],
  );
  const [name, setName] = useState('');
  const create = useAction();
  return (
    <section aria-labelledby="projects-title">
      <h1 id="projects-title">Projects</h1>
      <ErrorNote error={list.error} />
      {list.data && (
        <div class="table-wrap">
          <table data-testid="projects-table">
            <caption class="sr-only">Projects of the organization</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.results.map((p) => (
                <tr key={p.id}>
                  <td>
                    <a href={href(`/projects/${p.id}`)}>{p.name}</a>
                  </td>
                  <td>
                    <code>{p.id}</code>
                  </td>
                  <td>
                    {powers.projectDelete(orgId, p.id) && (
                      <ConfirmButton
                        label="Delete"
                        danger
                        question={`Delete project ${p.name}?`}
                        onConfirm={async () => {
                          await api('DELETE', `/groups/${p.id}`);
                          list.reload();
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data?.results.length === 0 && <p>No projects yet.</p>}
      {powers.projectCreate(orgId) && (
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await create.run(() => api('POST', '/groups', { name, orgId }))) {
              setName('');
              list.reload();
            }
          }}
        >
          <TextField id="project-name" label="New project name" required value={name} onValue={setName} />
          <button type="submit" class="primary" disabled={create.busy}>
            Create project
          </button>
          <ErrorNote error={create.error} />
        </form>
      )}
    </section>
  );
}

function projectRoles(k: ApiKey, groupId: string): Set<string> {
  return new Set(k.roles.filter((r) => r.groupId === groupId).map((r) => r.roleName));
}

/** One key's row in a project: its project roles, changeable, and unassign. */
function ProjectKeyRow({
  k,
  groupId,
  canWrite,
  reload,
}: {
  k: ApiKey;
  groupId: string;
  canWrite: boolean;
  reload: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [roles, setRoles] = useState(projectRoles(k, groupId));
  const save = useAction();
  return (
    <tr>
      <td>
        <code>{k.publicKey}</code>
      </td>
      <td>{k.desc}</td>
      <td>
        {editing ? (
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              if (
                await save.run(() =>
                  api('PATCH', `/groups/${groupId}/apiKeys/${k.id}`, { roles: [...roles] }),
                )
              ) {
                setEditing(false);
                reload();
              }
            }}
          >
            <RolePicker
              legend={`Project roles of ${k.publicKey}`}
              choices={GROUP_ROLES}
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
          <RoleList roles={k.roles.filter((r) => r.groupId === groupId)} />
        )}
      </td>
      <td>
        <Expiry k={k} />
      </td>
      <td>
        {canWrite && !editing && (
          <>
            <button type="button" onClick={() => setEditing(true)}>
              Change roles
            </button>{' '}
            <ConfirmButton
              label="Unassign"
              question={`Remove ${k.publicKey} from this project?`}
              onConfirm={async () => {
                await api('DELETE', `/groups/${groupId}/apiKeys/${k.id}`);
                reload();
              }}
            />
          </>
        )}
      </td>
    </tr>
  );
}

/** Assign an existing org key to the project, found by a server-side search. */
function AssignForm({ orgId, groupId, onDone }: { orgId: string; groupId: string; onDone: () => void }) {
  const [term, setTerm] = useState('');
  const [keyId, setKeyId] = useState('');
  const [roles, setRoles] = useState<Set<string>>(new Set());
  const found = useLoad(
    () =>
      api<ListPage<ApiKey>>(
        'GET',
        `/orgs/${orgId}/apiKeys?itemsPerPage=50${term ? `&search=${encodeURIComponent(term)}` : ''}`,
      ),
    [orgId, term],
  );
  const assign = useAction();
  return (
    <form
      class="stack"
      onSubmit={async (e) => {
        e.preventDefault();
        if (
          await assign.run(() => api('PATCH', `/groups/${groupId}/apiKeys/${keyId}`, { roles: [...roles] }))
        ) {
          setKeyId('');
          setRoles(new Set());
          onDone();
        }
      }}
    >
      <h2>Assign an organization key</h2>
      <TextField
        id="assign-search"
        label="Find a key by description or public key"
        type="search"
        value={term}
        onValue={setTerm}
      />
      <label for="assign-key">Key</label>
      <select
        id="assign-key"
        required
        value={keyId}
        onChange={(e) => setKeyId((e.currentTarget as HTMLSelectElement).value)}
      >
        <option value="">Choose a key</option>
        {found.data?.results.map((k) => (
          <option key={k.id} value={k.id}>
            {k.publicKey} — {k.desc}
          </option>
        ))}
      </select>
      <RolePicker legend="Project roles" choices={GROUP_ROLES} value={roles} onChange={setRoles} />
      <ErrorNote error={assign.error ?? found.error} />
      <div>
        <button type="submit" class="primary" disabled={assign.busy || !keyId}>
          Assign key
        </button>
      </div>
    </form>
  );
}

/** A project: its keys and what may be done with them. */
export function ProjectPage({ groupId, powers }: PageProps & { groupId: string }) {
  const project = useLoad(() => api<Project>('GET', `/groups/${groupId}`), [groupId]);
  const keys = useLoad(
    () => api<ListPage<ApiKey>>('GET', `/groups/${groupId}/apiKeys?itemsPerPage=500`),
    [groupId],
  );
  const [made, setMade] = useState<ApiKey | undefined>();
  const [creating, setCreating] = useState(false);
  if (project.error) return <ErrorNote error={project.error} />;
  if (!project.data) return <p aria-busy="true">Loading…</p>;
  const p = project.data;
  const canWrite = powers.projectKeysWrite(p.orgId, groupId);
  if (made)
    return (
      <ShowOnce apiKey={made}>
        <p>
          <button
            type="button"
            class="primary"
            onClick={() => {
              setMade(undefined);
              keys.reload();
            }}
          >
            I have saved the private key — done
          </button>
        </p>
      </ShowOnce>
    );
  return (
    <section aria-labelledby="project-title">
      <p>
        <a href={href(`/orgs/${p.orgId}/projects`)}>← All projects</a> ·{' '}
        <a href={href(`/projects/${groupId}/events`)}>Project events</a>
      </p>
      <h1 id="project-title">Project {p.name}</h1>
      <h2>API keys in this project</h2>
      <ErrorNote error={keys.error} />
      {keys.data && (
        <div class="table-wrap">
          <table data-testid="project-keys-table">
            <caption class="sr-only">API keys of the project</caption>
            <thead>
              <tr>
                <th scope="col">Public key</th>
                <th scope="col">Description</th>
                <th scope="col">Project roles</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.results.map((k) => (
                <ProjectKeyRow
                  key={`${k.id}:${k.roles.length}`}
                  k={k}
                  groupId={groupId}
                  canWrite={canWrite}
                  reload={keys.reload}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {keys.data?.results.length === 0 && <p>No keys in this project yet.</p>}
      {canWrite && <AssignForm orgId={p.orgId} groupId={groupId} onDone={keys.reload} />}
      {canWrite &&
        (creating ? (
          <section aria-labelledby="new-project-key">
            <h2 id="new-project-key">Create a project key</h2>
            <NewKeyForm
              path={`/groups/${groupId}/apiKeys`}
              roles={GROUP_ROLES}
              legend="Project roles"
              onCreated={setMade}
            />
          </section>
        ) : (
          <p>
            <button type="button" onClick={() => setCreating(true)}>
              Create a project key
            </button>
          </p>
        ))}
    </section>
  );
}
