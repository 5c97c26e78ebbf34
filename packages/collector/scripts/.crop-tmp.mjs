import { chromium } from 'playwright-core';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
const p = await b.newPage({ viewport: { width: 1360, height: 640 } });
await p.goto('file:///tmp/callmetry-shots/3-conference.png');
await p.screenshot({ path: '/tmp/callmetry-shots/3-top.png' });
await b.close();
