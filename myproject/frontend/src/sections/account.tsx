/** Log in with Django's session (the API's `login` mutation) and out again. */
import { useState, type FormEvent } from 'react';
import { authenticate, logout } from '../../../../ts_client/src/index.js';
import { useMutation } from '../../../../ts_client/src/react.js';
import { useDemo } from '../app.js';
import { client } from '../client.js';
import { describe } from '../errors.js';

export function Account() {
  const { user } = useDemo();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation(() => authenticate({ username, password }, client));
  const leave = useMutation(() => logout(client));

  if (user) {
    return (
      <div className="account">
        <span id="who">Logged in as <strong>{user.username}</strong></span>{' '}
        <button type="button" id="logout" disabled={leave.pending} onClick={() => void leave.run()}>Log out</button>
      </div>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void login.run().then((done) => done && setPassword(''));
  };
  return (
    <form className="account" id="login" onSubmit={submit}>
      <label>Username <input name="username" autoComplete="username" value={username}
        onChange={(e) => setUsername(e.target.value)} /></label>{' '}
      <label>Password <input name="password" type="password" autoComplete="current-password" value={password}
        onChange={(e) => setPassword(e.target.value)} /></label>{' '}
      <button type="submit" disabled={login.pending}>Log in</button>
      {login.error !== null && <p className="errornote" role="alert">{describe(login.error)}</p>}
      <p className="hint">Demo accounts: editor, viewer or admin, password <code>demo-password</code>.</p>
    </form>
  );
}
