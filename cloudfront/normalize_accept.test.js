// node --test cloudfront/ : runs the CloudFront Function source as deployed (no exports added)
// in a fresh context, on the same cases as tests/unit/delivery/test_accept.py.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const source = fs.readFileSync(path.join(__dirname, 'normalize_accept.js'), 'utf8');
const cases = JSON.parse(fs.readFileSync(path.join(__dirname, 'accept_cases.json'), 'utf8'));

function load() {
    const context = vm.createContext({});
    vm.runInContext(source, context);
    return context;
}

function viewerRequest(accept) {
    const headers = accept === null ? {} : { accept: { value: accept } };
    return { version: '1.0', context: { eventType: 'viewer-request' }, request: { method: 'GET', uri: '/t/x', headers } };
}

for (const c of cases) {
    test(`Given Accept ${JSON.stringify(c.accept)} (${c.note}), the forwarded Accept is image/${c.expected}`, () => {
        const fn = load();
        const request = fn.handler(viewerRequest(c.accept));
        assert.strictEqual(request.headers.accept.value, `image/${c.expected}`);
        assert.strictEqual(request.uri, '/t/x');
    });
}

test('Given repeated Accept headers (multiValue), they are read as one list', () => {
    const fn = load();
    const event = viewerRequest('image/png');
    event.request.headers.accept.multiValue = [{ value: 'image/png' }, { value: 'image/webp' }];
    assert.strictEqual(fn.handler(event).headers.accept.value, 'image/webp');
});

test('The function fits CloudFront Functions limits (10 KB source)', () => {
    assert.ok(Buffer.byteLength(source) < 10 * 1024);
});
