/**
 * Edit one article in a form: the server runs Django's `full_clean()`, and its
 * messages appear beside the fields they are about. The form is live too: a field
 * the user has not touched shows what the server has now (say, the admin's edit);
 * only touched fields are sent, so a save never undoes someone else's change.
 */
import { useState, type FormEvent } from 'react';
import { Article, type ArticleFields } from '../../../../ts_client/src/generated/models.js';
import { DoesNotExist } from '../../../../ts_client/src/index.js';
import { useObject, useUpdate, type FieldErrors } from '../../../../ts_client/src/react.js';
import { useDemo } from '../app.js';
import { client } from '../client.js';
import { describe } from '../errors.js';

type Editable = Pick<ArticleFields, 'title' | 'content' | 'published'>;
const articles = Article.objects.using(client);
const fields = articles.values('id', 'title', 'content', 'published');

export function Editor() {
  const { editing, edit, can } = useDemo();
  if (editing === null || !can('myproject.change_article')) return null;
  // A new form per article: nothing typed for one is sent for another.
  return <ArticleForm key={editing} pk={editing} close={() => edit(null)} />;
}

function Errors({ messages }: { messages: string[] | undefined }) {
  if (!messages?.length) return null;
  return <ul className="errorlist">{messages.map((message) => <li key={message}>{message}</li>)}</ul>;
}

function ArticleForm({ pk, close }: { pk: string; close(): void }) {
  const { object, loading, error } = useObject(fields, { pk });
  const save = useUpdate(articles);
  const [draft, setDraft] = useState<Partial<Editable>>({});
  const errors: FieldErrors<keyof Editable & string> = save.fieldErrors;

  if (loading) return <p className="loading">Loading…</p>;
  if (error instanceof DoesNotExist) {
    return <p className="errornote" role="alert">This article was deleted. <button type="button" onClick={close}>Close</button></p>;
  }
  if (!object) return <p className="errornote" role="alert">{describe(error)}</p>;

  const value = <K extends keyof Editable>(field: K): Editable[K] => draft[field] ?? object[field];
  const change = <K extends keyof Editable>(field: K, to: Editable[K]) => setDraft((before) => ({ ...before, [field]: to }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run(pk, draft).then((saved) => saved && setDraft({}));
  };
  const dirty = Object.keys(draft).length > 0;

  return (
    <form id="editor" onSubmit={submit} noValidate>
      <h2>Edit article #{pk}</h2>
      {save.error !== null && <p className="errornote" role="alert">{describe(save.error)}</p>}
      <Errors messages={errors.__all__} />
      <p className={errors.title ? 'field invalid' : 'field'}>
        <label htmlFor="id_title">Title</label>
        <input id="id_title" name="title" value={value('title')} onChange={(e) => change('title', e.target.value)} />
        <Errors messages={errors.title} />
      </p>
      <p className={errors.content ? 'field invalid' : 'field'}>
        <label htmlFor="id_content">Content</label>
        <textarea id="id_content" name="content" rows={4} value={value('content')} onChange={(e) => change('content', e.target.value)} />
        <Errors messages={errors.content} />
      </p>
      <p className="field">
        <label><input id="id_published" name="published" type="checkbox" checked={value('published')}
          onChange={(e) => change('published', e.target.checked)} /> Published</label>
        <Errors messages={errors.published} />
      </p>
      <p className="buttons">
        <button type="submit" name="save" disabled={save.pending || !dirty}>{save.pending ? 'Saving…' : 'Save'}</button>{' '}
        <button type="button" onClick={close}>Close</button>
        {save.result && !dirty && <span className="saved" role="status">Saved.</span>}
      </p>
    </form>
  );
}
