import { expect } from 'chai';
import { snippetsIn } from './snippets.js';

const fence = '```';

describe('the TypeScript blocks a page yields for the type check', () => {
  it('takes ts and typescript blocks as whole modules, and leaves other languages out', () => {
    const page = [
      '# Page',
      `${fence}ts`,
      'const a = 1;',
      fence,
      `${fence}sh`,
      'npm test',
      fence,
      `${fence}typescript`,
      'const b = 2;',
      fence,
    ].join('\n');
    expect(
      snippetsIn('page.md', page).map(({ code, line, marker }) => ({ code, line, marker })),
    ).to.deep.equal([
      { code: 'const a = 1;\n', line: 2, marker: undefined },
      { code: 'const b = 2;\n', line: 8, marker: undefined },
    ]);
  });

  it('appends a block marked continues to the block before it', () => {
    const page = [
      `${fence}ts`,
      'const a = 1;',
      fence,
      '<!-- snippet: continues -->',
      '',
      `${fence}ts`,
      'a;',
      fence,
    ].join('\n');
    const [, second] = snippetsIn('page.md', page);
    expect(second).to.include({ marker: 'continues', code: 'const a = 1;\n\na;\n', line: 6 });
  });

  it('reads the reason of a block marked partial', () => {
    const page = ['<!-- snippet: partial — an outline of the interface -->', `${fence}ts`, 'x(', fence].join(
      '\n',
    );
    expect(snippetsIn('page.md', page)[0]).to.include({
      marker: 'partial',
      reason: 'an outline of the interface',
      code: 'x(\n',
    });
  });

  it('refuses a first block that continues nothing', () => {
    const page = ['<!-- snippet: continues -->', `${fence}ts`, 'a;', fence].join('\n');
    expect(() => snippetsIn('page.md', page)).to.throw(/first TypeScript block/);
  });
});
