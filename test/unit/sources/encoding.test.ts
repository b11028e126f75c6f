import { afterAll, describe, expect, it } from 'vitest';
import { readAll, readError, rows, scratch } from './read-all.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

const TEXT = 'userName,givenName,familyName,email,employeeNumber\nzoe@x.com,Zoë,Ñúñez 😀,zoe@x.com,1\n';
const EXPECTED = {
  userName: 'zoe@x.com',
  givenName: 'Zoë',
  familyName: 'Ñúñez 😀',
  email: 'zoe@x.com',
  employeeNumber: '1',
};

function utf16be(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return le;
}

describe('encodings', () => {
  it.each([
    ['UTF-8 without BOM', Buffer.from(TEXT), 'utf-8'],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)]), 'utf-8'],
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')]), 'utf-16le'],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(TEXT)]), 'utf-16be'],
  ])('%s', async (_name, bytes, encoding) => {
    // A tiny read size splits BOMs and multi-byte characters across chunks.
    for (const highWaterMark of [1, 3, 64 * 1024]) {
      const { items, summary } = await readAll(tmp.path(`enc-${encoding}-${bytes.length}.csv`, bytes), {
        highWaterMark,
      });
      expect(rows(items).map((r) => r.record)).toEqual([EXPECTED]);
      expect(summary.encoding).toBe(encoding);
      expect(summary.columns![0]).toBe('userName'); // no BOM left on the first header name
      expect(summary.bytes).toBe(bytes.length);
    }
  });

  it('reads Windows-1252 when asked', async () => {
    const path = tmp.path(
      'cp1252.csv',
      Buffer.concat([Buffer.from('userName,givenName\nz@x.com,Zo'), Buffer.from([0xeb]), Buffer.from('\n')]),
    );
    const { items } = await readAll(path, { encoding: 'windows-1252' });
    expect(rows(items)[0]!.record.givenName).toBe('Zoë');
  });

  it('rejects invalid UTF-8 naming the line of the bad byte', async () => {
    const path = tmp.path(
      'latin1.csv',
      Buffer.concat([
        Buffer.from('userName,givenName\na@x.com,Ann\nz@x.com,Zo'),
        Buffer.from([0xeb]),
        Buffer.from('\n'),
      ]),
    );
    for (const highWaterMark of [2, 64 * 1024]) {
      const err = await readError(path, { highWaterMark });
      expect(err.code).toBe('PROV_ERR_INPUT');
      expect(err.message).toBe(
        `${path}: is not valid UTF-8 (save it as UTF-8, or UTF-16 with a byte order mark) (line 3)`,
      );
      expect(err.details.line).toBe(3);
    }
  });

  it('rejects a file cut in the middle of a UTF-8 character', async () => {
    const path = tmp.path('cut.csv', Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from('😀').subarray(0, 2)]));
    expect((await readError(path)).message).toMatch(/ends in the middle of a UTF-8 character/);
  });

  it('rejects UTF-16 without a BOM', async () => {
    const err = await readError(tmp.path('nobom.csv', Buffer.from(TEXT, 'utf16le')));
    expect(err.message).toMatch(/looks like UTF-16 without a byte order mark/);
  });

  it('rejects a NUL byte naming its line', async () => {
    const err = await readError(tmp.path('nul.csv', 'a,b\n1,2\n3,\u00004\n'));
    expect(err.message).toMatch(/contains a NUL character .* \(line 3\)$/);
  });

  it('rejects invalid UTF-16 (a lone surrogate)', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('a,b\n1,', 'utf16le'),
      Buffer.from([0x00, 0xd8]),
      Buffer.from('x\n', 'utf16le'),
    ]);
    expect((await readError(tmp.path('bad16.csv', bytes))).message).toMatch(/is not valid UTF-16LE/);
  });
});
