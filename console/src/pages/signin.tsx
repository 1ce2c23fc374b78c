/** Sign-in, and the first-user form while no user exists. */
import { useState } from 'preact/hooks';
import { api, type SessionInfo, sessionCall } from '../api.js';
import { ErrorNote, TextField, useAction } from '../ui.js';

/** A required field of these forms, named as its id (for the browser's password manager). */
function Field(props: {
  id: string;
  label: string;
  type?: string;
  value: string;
  set: (v: string) => void;
  autocomplete?: string;
}) {
  return (
    <TextField
      id={props.id}
      label={props.label}
      name={props.id}
      type={props.type ?? 'text'}
      required
      autocomplete={props.autocomplete}
      value={props.value}
      onValue={props.set}
    />
  );
}

/** The sign-in form (or the first user's). */
export function SignIn({ first, onSignedIn }: { first: boolean; onSignedIn: (s: SessionInfo) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [firstName, setFirstName] = useState('');
  const [lastName, setLastName] = useState('');
  const action = useAction();
  return (
    <main class="signin" id="main">
      <h1>{first ? 'Create the first user' : 'Sign in to pakman'}</h1>
      {first && (
        <p>
          No user exists yet. The first user becomes Global Owner. Its programmatic API key is shown in the
          API response only; in the console, sign in with the username and password.
        </p>
      )}
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          let s: SessionInfo | undefined;
          const ok = await action.run(async () => {
            if (first) await api('POST', '/unauth/users', { username, password, firstName, lastName });
            s = await sessionCall('POST', { username, password });
          });
          if (ok && s) onSignedIn(s);
        }}
      >
        <Field id="username" label="Username" value={username} set={setUsername} autocomplete="username" />
        <Field
          id="password"
          label="Password"
          type="password"
          value={password}
          set={setPassword}
          autocomplete={first ? 'new-password' : 'current-password'}
        />
        {first && <Field id="firstName" label="First name" value={firstName} set={setFirstName} />}
        {first && <Field id="lastName" label="Last name" value={lastName} set={setLastName} />}
        <ErrorNote error={action.error} />
        <div>
          <button type="submit" class="primary" disabled={action.busy}>
            {first ? 'Create user and sign in' : 'Sign in'}
          </button>
        </div>
      </form>
    </main>
  );
}
