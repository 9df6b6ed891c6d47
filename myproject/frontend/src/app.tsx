/**
 * What the sections share: who is logged in, which article is being read and
 * which is open in the editor. Everything else a section needs it reads from the API itself, live.
 */
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { CurrentUser } from '../../../ts_client/src/index.js';
import { useCurrentUser } from '../../../ts_client/src/react.js';
import { client } from './client.js';

export interface Demo {
  /** The logged-in user (null: anonymous, or not known yet). */
  user: CurrentUser | null;
  /** `app_label.codename`, as Django's `user.has_perm`. */
  can(permission: string): boolean;
  /** The article open in the editor. */
  editing: string | null;
  edit(pk: string | null): void;
  /** The article being read: the page's address says which (`#article-<pk>`), so it can be linked. */
  reading: string | null;
}

export const articleLink = (pk: string): string => `#article-${pk}`;
const readingNow = (): string | null => /^#article-(\d+)$/.exec(location.hash)?.[1] ?? null;

const DemoContext = createContext<Demo | null>(null);

export function DemoProvider({ children }: { children: ReactNode }) {
  const { user } = useCurrentUser(client);
  const [editing, edit] = useState<string | null>(null);
  const [reading, setReading] = useState(readingNow);
  useEffect(() => {
    const follow = () => setReading(readingNow());
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  const demo = useMemo<Demo>(() => ({
    user,
    can: (permission) => Boolean(user?.is_superuser || user?.permissions.includes(permission)),
    editing,
    edit,
    reading,
  }), [user, editing, reading]);
  return <DemoContext.Provider value={demo}>{children}</DemoContext.Provider>;
}

export function useDemo(): Demo {
  const demo = useContext(DemoContext);
  if (!demo) throw new Error('useDemo() outside <DemoProvider>');
  return demo;
}
