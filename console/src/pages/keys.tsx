/** An org's API keys: the list (paged, searched on the server), create (private key shown once), a key's page. */
import { useEffect, useState } from 'preact/hooks';
import { type AccessEntry, type ApiKey, api, type ListPage } from '../api.js';
import { ORG_ROLES } from '../roles.js';
import { href } from '../router.js';
import {
  AccessListEditor,
  ConfirmButton,
  ErrorNote,
  Expiry,
  Pager,
  RoleList,
  RolePicker,
  ShowOnce,
  TextField,
  useAction,
  useLoad,
} from '../ui.js';
import type { PageProps } from './common.js';
import { KeyFacts, KeyLifecycle, KeyPolicySection, useRotation } from './lifecycle.js';

const PAGE_SIZES = [20, 50, 100, 200];

/**
 * At most 3 access-list reads at a time: the table comes first, and a browser's 6 connections to the server
 * stay free for what the user does meanwhile.
 */
const queue: (() => void)[] = [];
let running = 0;
function limited<T>(task: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const start = () => {
      running++;
      task()
        .then(resolve, reject)
        .finally(() => {
          running--;
          queue.shift()?.();
        });
    };
    if (running < 3) start();
    else queue.push(start);
  });
}

/**
 * The access list's size and latest use of one key, read after the table is on screen. The latest use is
 * the latest of its entries' (the list carries no other): a key with an empty access list records none
 * there, so it shows "—" and the key's page shows its last use.
 */
function AccessSummary({ path }: { path: string }) {
  const [text, setText] = useState('…');
  const [used, setUsed] = useState('');
  useEffect(() => {
    let live = true;
    limited(() =>
      live ? api<ListPage<AccessEntry>>('GET', `${path}?itemsPerPage=500`) : Promise.reject(),
    ).then(
      (l) => {
        if (!live) return;
        setText(l.totalCount === 0 ? 'any address' : String(l.totalCount));
        const last = l.results
          .map((e) => e.lastUsed ?? '')
          .sort()
          .pop();
        setUsed(last ?? '');
      },
      () => live && setText('—'),
    );
    return () => {
      live = false;
    };
  }, [path]);
  return (
    <>
      <td>{text}</td>
      <td>{used || <UnknownUse text={text} />}</td>
    </>
  );
}

/** The last-used cell of a key with no recorded use in its access list: unknown for an empty list. */
function UnknownUse({ text }: { text: string }) {
  if (text === '…' || text === '—') return <span class="muted">{text}</span>;
  if (text !== 'any address') return <span class="muted">never</span>;
  return (
    <span class="muted">
      —<span class="sr-only"> (no access list to record it; see the key's page)</span>
    </span>
  );
}

/** The org's keys. */
export function KeysPage({ orgId, powers }: PageProps & { orgId: string }) {
  const [pageNum, setPageNum] = useState(1);
  const [itemsPerPage, setItemsPerPage] = useState(50);
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    // Only a new term goes back to page 1: the timer also runs once after the page first renders, and a
    // click on Next within that time must stay on page 2.
    const term = typed.trim();
    if (term === search) return;
    const t = setTimeout(() => {
      setSearch(term);
      setPageNum(1);
    }, 250);
    return () => clearTimeout(t);
  }, [typed]);
  const q = `pageNum=${pageNum}&itemsPerPage=${itemsPerPage}${search ? `&search=${encodeURIComponent(search)}` : ''}`;
  const list = useLoad(() => api<ListPage<ApiKey>>('GET', `/orgs/${orgId}/apiKeys?${q}`), [orgId, q]);
  const canWrite = powers.orgKeysWrite(orgId);
  return (
    <section aria-labelledby="keys-title">
      <div class="title-row">
        <h1 id="keys-title">API keys</h1>
        {canWrite && (
          <a class="button primary" href={href(`/orgs/${orgId}/keys/new`)}>
            Create API key
          </a>
        )}
      </div>
      <div class="toolbar">
        <TextField
          id="key-search"
          label="Search by description or public key"
          type="search"
          value={typed}
          onValue={setTyped}
        />
        <label for="page-size">Per page</label>
        <select
          id="page-size"
          value={itemsPerPage}
          onChange={(e) => {
            setItemsPerPage(Number((e.currentTarget as HTMLSelectElement).value));
            setPageNum(1);
          }}
        >
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={list.error} />
      {list.data && (
        <>
          <div class="table-wrap">
            <table data-testid="keys-table" aria-busy={list.loading}>
              <caption class="sr-only">API keys of the organization</caption>
              <thead>
                <tr>
                  <th scope="col">Public key</th>
                  <th scope="col">Description</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Access list</th>
                  <th scope="col">Last used</th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((k) => (
                  <tr key={k.id}>
                    <td>
                      <a href={href(`/orgs/${orgId}/keys/${k.id}`)}>
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
                    <AccessSummary path={`/orgs/${orgId}/apiKeys/${k.id}/accessList`} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.data.results.length === 0 && (
            <p>{search ? 'No key matches the search.' : 'No API keys yet.'}</p>
          )}
          <Pager
            pageNum={pageNum}
            itemsPerPage={itemsPerPage}
            totalCount={list.data.totalCount}
            onPage={setPageNum}
          />
          <p class="muted">
            Last used: the latest use recorded by the key's access list; a key's page shows its last use from
            anywhere.
          </p>
        </>
      )}
      <KeyPolicySection orgId={orgId} canWrite={canWrite} />
    </section>
  );
}

/** A form for a new key's description and roles; answers the created key (with its private key). */
export function NewKeyForm(props: {
  path: string;
  roles: readonly string[];
  legend: string;
  onCreated: (k: ApiKey) => void;
}) {
  const [desc, setDesc] = useState('');
  const [roles, setRoles] = useState<Set<string>>(new Set());
  const action = useAction();
  return (
    <form
      class="stack"
      onSubmit={async (e) => {
        e.preventDefault();
        let made: ApiKey | undefined;
        if (
          await action.run(
            async () => (made = await api<ApiKey>('POST', props.path, { desc, roles: [...roles] })),
          )
        )
          props.onCreated(made!);
      }}
    >
      <TextField id="key-desc" label="Description" required maxLength={250} value={desc} onValue={setDesc} />
      <RolePicker legend={props.legend} choices={props.roles} value={roles} onChange={setRoles} />
      <ErrorNote error={action.error} />
      <div>
        <button type="submit" class="primary" disabled={action.busy}>
          Create API key
        </button>
      </div>
    </form>
  );
}

/** Create an org key: description and roles, then its private key once, then its access list. */
export function NewKeyPage({ orgId, session }: PageProps & { orgId: string }) {
  const [made, setMade] = useState<ApiKey | undefined>();
  if (made)
    return (
      <ShowOnce apiKey={made}>
        <AccessListEditor
          listPath={`/orgs/${orgId}/apiKeys/${made.id}/accessList`}
          canWrite
          clientAddress={session.clientAddress}
        />
        <p>
          <a class="button primary" href={href(`/orgs/${orgId}/keys/${made.id}`)}>
            I have saved the private key — done
          </a>
        </p>
      </ShowOnce>
    );
  return (
    <section aria-labelledby="new-key-title">
      <h1 id="new-key-title">Create API key</h1>
      <NewKeyForm
        path={`/orgs/${orgId}/apiKeys`}
        roles={ORG_ROLES}
        legend="Organization permissions"
        onCreated={setMade}
      />
    </section>
  );
}

/**
 * One org key: description and roles (editable), delete, its expiry, rotation and usage, its access list.
 * After a rotation, the new private key once instead.
 */
export function KeyPage({ orgId, keyId, powers, session }: PageProps & { orgId: string; keyId: string }) {
  const keyPath = `/orgs/${orgId}/apiKeys/${keyId}`;
  const key = useLoad(() => api<ApiKey>('GET', keyPath), [keyPath]);
  const rotation = useRotation(key.reload);
  const canWrite = powers.orgKeysWrite(orgId);
  const [desc, setDesc] = useState('');
  const [roles, setRoles] = useState<Set<string>>(new Set());
  const [saved, setSaved] = useState(false);
  const save = useAction();
  useEffect(() => {
    if (!key.data) return;
    setDesc(key.data.desc);
    setRoles(new Set(key.data.roles.filter((r) => r.orgId === orgId).map((r) => r.roleName)));
  }, [key.data, orgId]);
  if (key.error) return <ErrorNote error={key.error} />;
  if (!key.data) return <p aria-busy="true">Loading…</p>;
  if (rotation.view) return rotation.view;
  const k = key.data;
  return (
    <>
      <section aria-labelledby="key-title">
        <p>
          <a href={href(`/orgs/${orgId}/keys`)}>← All API keys</a>
        </p>
        <h1 id="key-title">
          API key <code>{k.publicKey}</code>
        </h1>
        <KeyFacts k={k} />
        {canWrite && (
          <form
            class="stack"
            onSubmit={async (e) => {
              e.preventDefault();
              setSaved(false);
              if (await save.run(() => api('PATCH', keyPath, { desc, roles: [...roles] }))) {
                setSaved(true);
                key.reload();
              }
            }}
          >
            <h2>Edit</h2>
            <TextField
              id="edit-desc"
              label="Description"
              required
              maxLength={250}
              value={desc}
              onValue={setDesc}
            />
            <RolePicker
              legend="Organization permissions"
              choices={ORG_ROLES}
              value={roles}
              onChange={setRoles}
            />
            <ErrorNote error={save.error} />
            <div>
              <button type="submit" class="primary" disabled={save.busy}>
                Save changes
              </button>{' '}
              <span aria-live="polite">{saved ? 'Saved.' : ''}</span>
            </div>
          </form>
        )}
        {canWrite && (
          <p>
            <ConfirmButton
              label="Delete"
              danger
              question={`Delete API key ${k.publicKey}? Clients using it stop working at once.`}
              onConfirm={async () => {
                await api('DELETE', keyPath);
                location.hash = `#/orgs/${orgId}/keys`;
              }}
            />
          </p>
        )}
      </section>
      <KeyLifecycle
        keyPath={keyPath}
        k={k}
        orgId={orgId}
        canWrite={canWrite}
        onChanged={key.reload}
        onRotated={rotation.onRotated}
      />
      <AccessListEditor
        listPath={`${keyPath}/accessList`}
        canWrite={canWrite}
        clientAddress={session.clientAddress}
      />
    </>
  );
}
