/** The README's TypeScript snippet, as written there: it must compile (never run). */
import WebSocket from 'ws';
import { configure, authenticate } from '../../src/index.js';
import { Article } from '../../src/generated/models.js';

export async function readmeSnippet(): Promise<void> {
  configure({ url: 'http://127.0.0.1:8000/graphql', WebSocket });
  await authenticate({ username: 'editor', password: 'demo-password' });

  const latest = await Article.objects
    .filter(Article.Q({ title__icontains: 'django' }).or({ tags__name: 'python' }), { published: true })
    .select_related('author')            // article.author in the same request
    .prefetch_related('tags')            // article.tags.cached
    .order_by('-created_at')
    .limit(5);
  for (const a of latest) console.log(a.title, a.author?.username, a.tags.cached.map((t) => t.name));

  const names = await Article.objects.values('author__username').order_by('author__username').distinct();
  const live = Article.objects.filter({ published: true }).order_by('-created_at').limit(10).live();
  live.subscribe((state) => console.log(state.rows.map((a) => a.title)));
  void names;
}
