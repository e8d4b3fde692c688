// CloudFront Function (cloudfront-js-2.0), viewer request of the default behaviour when no key
// pair is configured: the private media/ paths have no key group to check signatures against,
// so every request is refused here, before the cache and the origin. /public/* and /t/* have
// their own behaviours and never reach this function.
function handler(event) {
    return {
        statusCode: 403,
        statusDescription: 'Forbidden',
        headers: {
            'content-type': { value: 'text/plain' },
            'cache-control': { value: 'no-store' }
        },
        body: { encoding: 'text', data: 'private media needs a signed URL\n' }
    };
}
