/** Global keys (with a page each) and the global access list, for users with a global role. */
import { useState } from 'preact/hooks';
import { type AccessEntry, type ApiKey, api, type ListPage } from '../api.js';
import { GLOBAL_ROLES } from '../roles.js';
import { href } from '../router.js';
import {
  ConfirmButton,
  ErrorNote,
  Expiry,
  RoleList,
  ShowOnce,
  TextField,
  useAction,
  useLoad,
} from '../ui.js';
import type { PageProps } from './common.js';
import { NewKeyForm } from './keys.js';
import { KeyFacts, KeyLifecycle, useRotation } from './lifecycle.js';

function GlobalAccessList({ canWrite, clientAddress }: { canWrite: boolean; clientAddress: string }) {
  const list = useLoad(() => api<ListPage<AccessEntry>>('GET', '/admin/accessList?itemsPerPage=500'), []);
  const [cidrBlock, setCidr] = useState('');
  const [description, setDescription] = useState('');
  const add = useAction();
  return (
    <section aria-labelledby="gacl-title">
      <h2 id="gacl-title">Global access list</h2>
      <p class="muted">When not empty, global keys may be used only from these blocks.</p>
      <ErrorNote error={list.error} />
      {list.data && list.data.results.length > 0 && (
        <div class="table-wrap">
          <table data-testid="global-acl-table">
            <caption class="sr-only">Global access list</caption>
            <thead>
              <tr>
                <th scope="col">CIDR block</th>
                <th scope="col">Description</th>
                <th scope="col">Requests</th>
                <th scope="col">Last used</th>
                {canWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.data.results.map((e) => (
                <tr key={e.id}>
                  <td>
                    <code>{e.cidrBlock}</code>
                  </td>
                  <td>{e.description}</td>
                  <td>{e.count ?? 0}</td>
                  <td>{e.lastUsed ?? <span class="muted">never</span>}</td>
                  {canWrite && (
                    <td>
                      <ConfirmButton
                        label="Remove"
                        question={`Remove ${e.cidrBlock}?`}
                        onConfirm={async () => {
                          await api('DELETE', `/admin/accessList/${e.id}`);
                          list.reload();
                        }}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && (
        <form
          class="inline-form"
          onSubmit={async (ev) => {
            ev.preventDefault();
            if (await add.run(() => api('POST', '/admin/accessList', { cidrBlock, description }))) {
              setCidr('');
              setDescription('');
              list.reload();
            }
          }}
        >
          <TextField id="gacl-cidr" label="CIDR block" required value={cidrBlock} onValue={setCidr} />
          <button
            type="button"
            onClick={() =>
              setCidr(clientAddress.includes(':') ? `${clientAddress}/128` : `${clientAddress}/32`)
            }
          >
            Use my current address
          </button>
          <TextField
            id="gacl-desc"
            label="Block description"
            required
            value={description}
            onValue={setDescription}
          />
          <button type="submit" class="primary" disabled={add.busy}>
            Add block
          </button>
          <ErrorNote error={add.error} />
        </form>
      )}
    </section>
  );
}

/** Create an organization (global user admins; the org picker lists it at once). */
function NewOrgForm() {
  const [name, setName] = useState('');
  const create = useAction();
  return (
    <form
      class="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        let made: { id: string } | undefined;
        if (await create.run(async () => (made = await api<{ id: string }>('POST', '/orgs', { name })))) {
          location.hash = `#/orgs/${made!.id}/keys`;
          location.reload();
        }
      }}
    >
      <TextField id="org-name" label="New organization name" required value={name} onValue={setName} />
      <button type="submit" class="primary" disabled={create.busy}>
        Create organization
      </button>
      <ErrorNote error={create.error} />
    </form>
  );
}

/** Global keys and the global access list. */
export function AdminPage({ powers, session }: PageProps) {
  const keys = useLoad(() => api<ListPage<ApiKey>>('GET', '/admin/apiKeys?itemsPerPage=500'), []);
  const [made, setMade] = useState<ApiKey | undefined>();
  const [creating, setCreating] = useState(false);
  const canWrite = powers.globalAdmin;
  if (!powers.anyGlobal) return <p>Global keys need a global role.</p>;
  if (made)
    return (
      <ShowOnce apiKey={made}>
        <p>
          <button
            type="button"
            class="primary"
            onClick={() => {
              setMade(undefined);
              setCreating(false);
              keys.reload();
            }}
          >
            I have saved the private key — done
          </button>
        </p>
      </ShowOnce>
    );
  return (
    <>
      <section aria-labelledby="global-title">
        <h1 id="global-title">Global API keys</h1>
        <ErrorNote error={keys.error} />
        {keys.data && (
          <div class="table-wrap">
            <table data-testid="global-keys-table">
              <caption class="sr-only">Global API keys</caption>
              <thead>
                <tr>
                  <th scope="col">Public key</th>
                  <th scope="col">Description</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Expires</th>
                  {canWrite && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {keys.data.results.map((k) => (
                  <tr key={k.id}>
                    <td>
                      <a href={href(`/admin/keys/${k.id}`)}>
                        <code>{k.publicKey}</code>
                      </a>
                    </td>
                    <td>{k.desc}</td>
                    <td>
                      <RoleList roles={k.roles} />
                    </td>
                    <td>
                      <Expiry k={k} />
                    </td>
                    {canWrite && (
                      <td>
                        <ConfirmButton
                          label="Delete"
                          danger
                          question={`Delete global key ${k.publicKey}?`}
                          onConfirm={async () => {
                            await api('DELETE', `/admin/apiKeys/${k.id}`);
                            keys.reload();
                          }}
                        />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {canWrite &&
          (creating ? (
            <section aria-labelledby="new-global-key">
              <h2 id="new-global-key">Create a global key</h2>
              <NewKeyForm
                path="/admin/apiKeys"
                roles={GLOBAL_ROLES}
                legend="Global roles"
                onCreated={setMade}
              />
            </section>
          ) : (
            <p>
              <button type="button" onClick={() => setCreating(true)}>
                Create a global key
              </button>
            </p>
          ))}
      </section>
      <GlobalAccessList canWrite={canWrite} clientAddress={session.clientAddress} />
      {canWrite && (
        <section aria-labelledby="orgs-title">
          <h2 id="orgs-title">Organizations</h2>
          <NewOrgForm />
        </section>
      )}
    </>
  );
}

/** One global key: its roles, expiry, rotation and usage; after a rotation, the new private key once. */
export function GlobalKeyPage({ keyId, powers }: PageProps & { keyId: string }) {
  const keyPath = `/admin/apiKeys/${keyId}`;
  const key = useLoad(() => api<ApiKey>('GET', keyPath), [keyPath]);
  const rotation = useRotation(key.reload);
  if (!powers.anyGlobal) return <p>Global keys need a global role.</p>;
  if (key.error) return <ErrorNote error={key.error} />;
  if (!key.data) return <p aria-busy="true">Loading…</p>;
  if (rotation.view) return rotation.view;
  const k = key.data;
  return (
    <>
      <section aria-labelledby="key-title">
        <p>
          <a href={href('/admin')}>← Global keys</a>
        </p>
        <h1 id="key-title">
          Global API key <code>{k.publicKey}</code>
        </h1>
        <KeyFacts k={k}>
          <dt>Description</dt>
          <dd>{k.desc}</dd>
        </KeyFacts>
      </section>
      <KeyLifecycle
        keyPath={keyPath}
        k={k}
        orgId={null}
        canWrite={powers.globalAdmin}
        onChanged={key.reload}
        onRotated={rotation.onRotated}
      />
    </>
  );
}
