/**
 * Django auth over the API: session login (`authenticate`), `logout`, and bearer
 * tokens for clients without cookies. Every identity change restarts the live
 * socket, because a socket's user is fixed when it connects.
 */
import { getDefaultClient, type Client } from './client.js';

/** The logged-in user as the server describes it (never the password). */
export interface CurrentUser {
  id: string;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  is_staff: boolean;
  is_superuser: boolean;
  permissions: string[];
}

export interface TokenResult {
  token: string;
  /** Unix seconds. */
  expires_at: number;
  user: CurrentUser;
}

export interface Credentials {
  username: string;
  password: string;
}

const USER = 'id username email first_name last_name is_staff is_superuser permissions';
const TOKEN = `token expires_at user { ${USER} }`;

/** Log in with Django's session (sets the session cookie); resolves to the user. */
export async function authenticate(credentials: Credentials, client: Client = getDefaultClient()): Promise<CurrentUser> {
  const data = await client.request<{ login: { user: CurrentUser } }>(
    `mutation login($username: String!, $password: String!) { login(username: $username, password: $password) { user { ${USER} } } }`,
    { ...credentials },
  );
  client.identityChanged();
  return data.login.user;
}

/** End the session (and drop a bearer token); the socket reconnects as anonymous. */
export async function logout(client: Client = getDefaultClient()): Promise<boolean> {
  const data = await client.request<{ logout: boolean }>('mutation logout { logout }');
  client.clearSession();
  client.setToken(null); // also restarts the socket, now anonymous
  return data.logout;
}

/** Token mode: get a bearer token and use it for HTTP and the socket from now on. */
export async function tokenAuth(credentials: Credentials, client: Client = getDefaultClient()): Promise<TokenResult> {
  const data = await client.request<{ token_auth: TokenResult }>(
    `mutation token_auth($username: String!, $password: String!) { token_auth(username: $username, password: $password) { ${TOKEN} } }`,
    { ...credentials },
  );
  client.setToken(data.token_auth.token);
  return data.token_auth;
}

/** A fresh token for the current user; the socket restarts with it. */
export async function refreshToken(client: Client = getDefaultClient()): Promise<TokenResult> {
  const data = await client.request<{ refresh_token: TokenResult }>(`mutation refresh_token { refresh_token { ${TOKEN} } }`);
  client.setToken(data.refresh_token.token);
  return data.refresh_token;
}

/** The current user, or null when anonymous. */
export async function me(client: Client = getDefaultClient()): Promise<CurrentUser | null> {
  const data = await client.request<{ me: CurrentUser | null }>(`query me { me { ${USER} } }`);
  return data.me;
}
