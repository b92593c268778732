import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A TypeScript block of a page, as the type check sees it. Each block is a whole module, except where
 * a marker (an HTML comment, invisible on the rendered page) just before its fence says otherwise:
 * - `<!-- snippet: continues -->`: the block goes on from the page's previous block (it uses what that one
 *   declared); it is checked appended to it.
 * - `<!-- snippet: partial — why -->`: the block is deliberately not a program (an outline, a signature);
 *   it is not required to compile, must say why, and must not compile (else the marker is stale).
 */
export interface Snippet {
  readonly page: string;
  /** The block's place among the page's TypeScript blocks, from 0. */
  readonly index: number;
  /** The line of the page where the block's fence opens. */
  readonly line: number;
  readonly marker: 'continues' | 'partial' | undefined;
  /** What a `partial` marker says after the word. */
  readonly reason: string;
  /** The code to check: the block, after the blocks it continues. */
  readonly code: string;
}

/** README.md and every Markdown page under docs/, relative to `root`. */
export function docPages(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The fence of a TypeScript block, after its marker if it has one (blank lines may stand between them). */
const block =
  /^(?:<!--\s*snippet:\s*(continues|partial)\b([^]*?)-->\n(?:[ \t]*\n)*)?```(?:ts|typescript)\b[^\n]*\n([^]*?)^```/gm;

/** The TypeScript blocks (fenced as `ts` or `typescript`) of one page. */
export function snippetsOf(root: string, page: string): Snippet[] {
  return snippetsIn(page, readFileSync(join(root, page), 'utf8'));
}

/** The TypeScript blocks of `text`, the Markdown of `page`. */
export function snippetsIn(page: string, text: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const match of text.matchAll(block)) {
    const [, marker, reason = '', body = ''] = match;
    const previous = snippets.at(-1);
    if (marker === 'continues' && previous === undefined) {
      throw new Error(`${page}: the first TypeScript block cannot continue a previous one.`);
    }
    const fence = (match.index ?? 0) + match[0].indexOf('```');
    snippets.push({
      page,
      index: snippets.length,
      line: text.slice(0, fence).split('\n').length,
      marker: marker as Snippet['marker'],
      reason: reason.replace(/^\s*[—–-]?\s*/, '').trim(),
      code: marker === 'continues' ? `${previous!.code}\n${body}` : body,
    });
  }
  return snippets;
}
