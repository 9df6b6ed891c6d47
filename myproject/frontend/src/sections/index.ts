/**
 * The page's sections, top to bottom. A section is a component in a file of its
 * own in this folder; to add one, write it and list it here. It may use
 * `useDemo()` (app.tsx) for the user and the article being read or edited, and the
 * page's `client` (client.ts) for everything else.
 */
import type { ComponentType } from 'react';
import { Account } from './account.js';
import { Articles } from './articles.js';
import { Changes } from './changes.js';
import { Dashboard } from './dashboard.js';
import { Editor } from './editor.js';
import { Reader } from './reader.js';
import { Tasks } from './tasks.js';

export interface Section {
  /** The section element's id is `section-<id>`. */
  id: string;
  Component: ComponentType;
}

export const SECTIONS: Section[] = [
  { id: 'account', Component: Account },
  { id: 'dashboard', Component: Dashboard },
  { id: 'articles', Component: Articles },
  { id: 'reader', Component: Reader },
  { id: 'editor', Component: Editor },
  { id: 'changes', Component: Changes },
  { id: 'tasks', Component: Tasks },
];
