// After `typedoc` (npm run docs): docs/api/ must be a static site that works from any folder or
// host path: a landing page (index.html), and every href/src either external (http(s), mailto),
// an in-page anchor, or a relative path to a file the site contains.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const SITE = 'docs/api';
const fail = (msg) => {
  console.error(`check-docs-site: ${msg}`);
  process.exit(1);
};
if (!existsSync(join(SITE, 'index.html'))) fail(`${SITE}/index.html (the landing page) is missing: run typedoc`);
const pages = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.html')) pages.push(p);
  }
};
walk(SITE);
let links = 0;
for (const page of pages) {
  const html = readFileSync(page, 'utf8');
  for (const m of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
    const url = m[1];
    if (/^(https?:|mailto:|#|data:)/.test(url) || url === '') continue;
    if (url.startsWith('/')) fail(`${page} links to ${url}: an absolute path breaks when the site is not served from the host root`);
    const target = join(dirname(page), decodeURIComponent(url.split(/[#?]/)[0]));
    if (!existsSync(target)) fail(`${page} links to ${url}, which the site does not contain (${relative('.', target)})`);
    links++;
  }
}
console.log(`check-docs-site: ${pages.length} pages, ${links} relative links and assets, all inside ${SITE}/; landing page ${SITE}/index.html`);
