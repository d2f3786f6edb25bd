import { describe, expect, it } from 'vitest';
import { isAllowedRedirect } from '../src/redirect';

const ALLOWED = ['https://shop.example.com', 'https://pay.example.com:8443'];

describe('isAllowedRedirect', () => {
  const cases: { name: string; moveUrl: string; want: boolean }[] = [
    { name: 'a path', moveUrl: '/done?id=42', want: true },
    { name: 'the root', moveUrl: '/', want: true },
    { name: 'a path with a fragment', moveUrl: '/done#top', want: true },
    { name: 'a path with encoded slashes', moveUrl: '/%2F%2Fevil.example', want: true },
    { name: 'an allowed origin', moveUrl: 'https://shop.example.com/thanks', want: true },
    { name: 'an allowed origin in upper case', moveUrl: 'HTTPS://SHOP.EXAMPLE.COM/thanks', want: true },
    { name: 'an allowed origin with its default port spelt out', moveUrl: 'https://shop.example.com:443/x', want: true },
    { name: 'an allowed origin with its own port', moveUrl: 'https://pay.example.com:8443/ok', want: true },
    { name: 'protocol-relative', moveUrl: '//evil.example', want: false },
    { name: 'protocol-relative with a path', moveUrl: '//evil.example/done', want: false },
    { name: 'slash backslash', moveUrl: '/\\evil.example', want: false },
    { name: 'backslash slash', moveUrl: '\\/evil.example', want: false },
    { name: 'a backslash later in the path', moveUrl: '/a\\b', want: false },
    { name: 'an origin not listed', moveUrl: 'https://evil.example/', want: false },
    { name: 'userinfo before an allowed host', moveUrl: 'https://shop.example.com@evil.example/', want: false },
    { name: 'userinfo on an allowed host', moveUrl: 'https://ok@shop.example.com/', want: false },
    { name: 'a look-alike suffix', moveUrl: 'https://shop.example.com.evil.example/', want: false },
    { name: 'a look-alike prefix', moveUrl: 'https://evilshop.example.com/', want: false },
    { name: 'a Cyrillic look-alike', moveUrl: 'https://shоp.example.com/', want: false },
    { name: 'http where https is listed', moveUrl: 'http://shop.example.com/', want: false },
    { name: 'another port', moveUrl: 'https://shop.example.com:8443/', want: false },
    { name: 'the listed host without its port', moveUrl: 'https://pay.example.com/', want: false },
    { name: 'javascript:', moveUrl: 'javascript:alert(1)', want: false },
    { name: 'JavaScript: in mixed case', moveUrl: 'JaVaScRiPt:alert(1)', want: false },
    { name: 'javascript: with a tab inside', moveUrl: 'java\tscript:alert(1)', want: false },
    { name: 'data:', moveUrl: 'data:text/html,<script>alert(1)</script>', want: false },
    { name: 'a leading space', moveUrl: ' /done', want: false },
    { name: 'a trailing space', moveUrl: '/done ', want: false },
    { name: 'a leading tab before protocol-relative', moveUrl: '\t//evil.example', want: false },
    { name: 'a newline inside', moveUrl: '/do\nne', want: false },
    { name: 'a NUL', moveUrl: '/done\u0000', want: false },
    { name: 'DEL', moveUrl: '/done\u007f', want: false },
    { name: 'a relative path without a slash', moveUrl: 'done', want: false },
    { name: 'a dot path', moveUrl: './done', want: false },
    { name: 'empty', moveUrl: '', want: false },
    { name: 'ftp', moveUrl: 'ftp://shop.example.com/', want: false },
  ];
  for (const { name, moveUrl, want } of cases) {
    it(`${want ? 'allows' : 'rejects'} ${name}`, () => expect(isAllowedRedirect(moveUrl, ALLOWED)).toBe(want));
  }

  it('allows no absolute URL when no origin is listed', () => {
    expect(isAllowedRedirect('https://shop.example.com/', [])).toBe(false);
    expect(isAllowedRedirect('/fine', [])).toBe(true);
  });
});
