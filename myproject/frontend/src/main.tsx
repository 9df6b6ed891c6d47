/**
 * /live/: a React app on ts_client's live QuerySet. The page is a list of
 * sections (sections/index.ts), each in its own file; they share only who is
 * logged in and what is being edited (app.tsx).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DemoProvider } from './app.js';
import { SECTIONS } from './sections/index.js';

function Page() {
  return (
    <DemoProvider>
      {SECTIONS.map(({ id, Component }) => (
        <section key={id} id={`section-${id}`}>
          <Component />
        </section>
      ))}
    </DemoProvider>
  );
}

const mount = document.getElementById('app');
if (!mount) throw new Error('#app is missing from the page');
createRoot(mount).render(<StrictMode><Page /></StrictMode>);
