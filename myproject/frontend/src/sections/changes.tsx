/** The change events themselves, newest first: what the live list is made of. */
import { useEffect, useState } from 'react';
import { Article } from '../../../../ts_client/src/generated/models.js';
import type { ChangeEvent } from '../../../../ts_client/src/index.js';
import { client } from '../client.js';

const KEPT = 20;
type Row = { id: string; title: string };

export function Changes() {
  const [events, setEvents] = useState<ChangeEvent<Row>[]>([]);
  useEffect(() => {
    const subscription = Article.objects.using(client).filter({ published: true }).values('id', 'title').subscribe({
      onEvent(event) {
        if (event.op === 'READY' || event.op === 'RESYNC') return;
        setEvents((before) => [event, ...before].slice(0, KEPT));
      },
    });
    return () => subscription.unsubscribe();
  }, []);
  return (
    <>
      <h2>Changes</h2>
      <ol id="log">
        {events.map((event) => (
          <li key={event.cursor ?? `${event.op}-${event.pk}`} data-op={event.op}>
            {event.op} #{event.pk}{event.node ? ` “${event.node.title}”` : ''} (cursor {event.cursor})
          </li>
        ))}
      </ol>
    </>
  );
}
